// Command line: `npm run cli -- <command> [options]`. Each command lives in cli/<name>.ts
// and exports `run(argv): Promise<number>` (the exit code) and `usage`.
export interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  import: {
    summary: 'import a CRM export (CSV) into an org',
    load: () => import('./cli/import.ts')
  },
  train: {
    summary: 'train the win model and print holdout metrics',
    load: () => import('./cli/train.ts')
  },
  score: {
    summary: 'score deals and print or write the results',
    load: () => import('./cli/score.ts')
  },
  generate: {
    summary: 'generate sample deals with a planted win probability',
    load: () => import('./cli/generate.ts')
  },
  'orgs:add': {
    summary: 'register a Salesforce org with the backend',
    load: () => import('./cli/orgsAdd.ts')
  },
  'orgs:list': {
    summary: 'list registered orgs and their connection state',
    load: () => import('./cli/orgsList.ts')
  },
  'orgs:check': {
    summary: 'check an org connection (token + limits call)',
    load: () => import('./cli/orgsCheck.ts')
  },
  token: { summary: 'mint an API token for an operator', load: () => import('./cli/token.ts') }
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`
  );
  return (
    `usage: npm run cli -- <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n` +
    `Run \`npm run cli -- <command> --help\` for a command's options.`
  );
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    console.error(`unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  const command = await entry.load();
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? `error: ${err.message}` : err);
    process.exit(1);
  }
);
