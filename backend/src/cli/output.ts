// Writing large outputs line by line with backpressure, to a file or stdout.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';

export interface LineWriter {
  /** Buffers lines and flushes in chunks, waiting when the stream is full. */
  write(line: string): Promise<void>;
  close(): Promise<void>;
}

export function lineWriter(target: string | null, chunkChars = 1 << 16): LineWriter {
  const stream: Writable = target === null ? process.stdout : createWriteStream(target);
  let buffer = '';
  let failed: Error | null = null;
  stream.on('error', (err: Error) => {
    failed = err;
  });
  const flush = async () => {
    if (failed) throw failed;
    if (buffer.length === 0) return;
    const chunk = buffer;
    buffer = '';
    if (!stream.write(chunk)) await once(stream, 'drain');
  };
  return {
    async write(line: string) {
      buffer += line + '\n';
      if (buffer.length >= chunkChars) await flush();
    },
    async close() {
      await flush();
      if (target === null) return;
      stream.end();
      await once(stream, 'finish');
      if (failed) throw failed;
    }
  };
}
