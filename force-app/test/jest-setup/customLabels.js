// Makes every `@salesforce/label/c.*` import in the components resolve to the label's real value
// from force-app's CustomLabels file, so tests read and assert what users see.
import { readFileSync } from 'fs';
import { join } from 'path';

const LABELS_FILE = join(
  __dirname,
  '..',
  '..',
  'main',
  'default',
  'labels',
  'CustomLabels.labels-meta.xml'
);

const ENTITIES = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'", '&amp;': '&' };

function decode(text) {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (entity) => ENTITIES[entity]);
}

const xml = readFileSync(LABELS_FILE, 'utf8');
for (const [, block] of xml.matchAll(/<labels\s*>([\s\S]*?)<\/labels>/g)) {
  const name = /<fullName\s*>([^<]+)<\/fullName>/.exec(block)?.[1];
  const value = /<value\s*>([\s\S]*?)<\/value>/.exec(block)?.[1];
  if (name && value !== undefined) {
    const text = decode(value);
    jest.doMock(`@salesforce/label/c.${name}`, () => ({ __esModule: true, default: text }), {
      virtual: true
    });
  }
}
