// The Cosmos DB stand-in for the journal's tests: @zeit/cosmosdb-server over HTTPS on a free
// loopback port, with the one response fix the Rust SDK needs (local-stand-ins.md §3):
// partition-key-range ids as strings (the server sends numbers, the driver's type is a string).
// It prints "ready <port>" once it listens and stops when its standard input closes, so a test
// that dies never leaves it behind.
"use strict";

const { createHttpsServer } = require("@zeit/cosmosdb-server");

const server = createHttpsServer();

server.prependListener("request", (req, res) => {
  if (!/\/pkranges(\?|$)/.test(req.url)) {
    return;
  }
  const end = res.end.bind(res);
  res.end = (body, ...rest) => {
    if (typeof body !== "string") {
      return end(body, ...rest);
    }
    const parsed = JSON.parse(body);
    for (const range of parsed.PartitionKeyRanges || []) {
      range.id = String(range.id);
    }
    return end(JSON.stringify(parsed), ...rest);
  };
});

server.listen(0, "127.0.0.1", () => {
  console.log(`ready ${server.address().port}`);
});

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
