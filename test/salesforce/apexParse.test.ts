// Every Apex class and trigger in force-app parses with @apexdevtools/apex-parser (the grammar
// of the Apex compiler), with zero syntax errors. Apex cannot be compiled or run here: no org.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ApexErrorListener, ApexParserFactory } from '@apexdevtools/apex-parser';
import { ROOT, filesUnder, sourcePath } from './forceApp.ts';

class CollectingListener extends ApexErrorListener {
  readonly errors: string[] = [];

  apexSyntaxError(line: number, column: number, message: string): void {
    this.errors.push(`${line}:${column} ${message}`);
  }
}

/** Syntax errors in an Apex class (or trigger) source; lexer and parser errors alike. */
function syntaxErrors(source: string, unit: 'class' | 'trigger'): string[] {
  const listener = new CollectingListener();
  const { parser } = ApexParserFactory.createLexerAndParser(source, listener);
  if (unit === 'class') {
    parser.compilationUnit();
  } else {
    parser.triggerUnit();
  }
  return listener.errors;
}

test('every .cls and .trigger in force-app parses with zero syntax errors', () => {
  const classes = filesUnder(sourcePath('classes'), '.cls');
  const triggers = filesUnder(sourcePath('triggers'), '.trigger');
  const names = [...classes, ...triggers].map((path) => relative(ROOT, path));
  // The parts the package cannot work without, so an empty folder cannot pass.
  for (const expected of [
    'DealInsightsTriggerHandler.cls',
    'DealInsightsWebhookJob.cls',
    'DealInsightsSetupController.cls',
    'DealInsightsOpportunityTrigger.trigger',
    'DealInsightsCoLeadTrigger.trigger'
  ]) {
    assert.ok(
      names.some((name) => name.endsWith(`/${expected}`)),
      `${expected} is in force-app`
    );
  }

  for (const path of classes) {
    const errors = syntaxErrors(readFileSync(path, 'utf8'), 'class');
    assert.equal(errors.length, 0, `${relative(ROOT, path)}:\n${errors.join('\n')}`);
  }
  for (const path of triggers) {
    const errors = syntaxErrors(readFileSync(path, 'utf8'), 'trigger');
    assert.equal(errors.length, 0, `${relative(ROOT, path)}:\n${errors.join('\n')}`);
  }

  // The check can fail: broken Apex is reported, with where and why.
  const broken = syntaxErrors(
    'public class Broken {\n  void send( {\n    Integer x = ;\n  }\n}',
    'class'
  );
  assert.ok(broken.length > 0, 'a broken class yields syntax errors');
  assert.match(broken[0] ?? '', /^2:\d+ /);
  const brokenTrigger = syntaxErrors('trigger T on Opportunity(after update) { if ( }', 'trigger');
  assert.ok(brokenTrigger.length > 0, 'a broken trigger yields syntax errors');
});
