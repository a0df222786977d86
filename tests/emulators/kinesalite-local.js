// tests/emulators/kinesalite-local.js — starts kinesalite on 127.0.0.1 only
// (its command line binds every address). Usage: node kinesalite-local.js PORT
const kinesalite = require('kinesalite');
const port = parseInt(process.argv[2], 10);
kinesalite({ createStreamMs: 100, deleteStreamMs: 100, updateStreamMs: 100, shardLimit: 50 })
  .listen(port, '127.0.0.1', (err) => {
    if (err) { console.error(err); process.exit(1); }
    console.log('kinesalite on 127.0.0.1:' + port);
  });
