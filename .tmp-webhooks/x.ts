console.log(import.meta.url, process.argv[1]);
