// In the core child of the startup smoke test: Electron's utilityProcess gives the module
// `process.parentPort`; here it rides on Node's IPC channel (structured clone: 'advanced' serialization).
// Like Electron's port, it holds messages until the module attaches its 'message' listener (the parent
// posts 'init' right after fork, long before an ES module has loaded).
'use strict';
const { EventEmitter } = require('node:events');

const parentPort = new EventEmitter();
const held = [];
parentPort.postMessage = (message) => {
  if (process.send && process.connected) process.send(message);
};
process.on('message', (data) => {
  if (parentPort.listenerCount('message') === 0) held.push(data);
  else parentPort.emit('message', { data });
});
parentPort.on('newListener', (event) => {
  if (event === 'message' && held.length) setImmediate(() => held.splice(0).forEach((data) => parentPort.emit('message', { data })));
});
// The parent's IPC channel keeps this process alive like Electron's port does; it goes when the parent goes.
process.on('disconnect', () => process.exit(0));
process.parentPort = parentPort;
