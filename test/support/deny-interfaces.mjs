// Node preload (`node --import ./test/support/deny-interfaces.mjs …`): os.networkInterfaces() throws
// as it does under systemd's RestrictAddressFamilies without AF_NETLINK (libuv's getifaddrs needs a
// netlink socket; EAFNOSUPPORT is errno 97 on Linux), for running the built hub as the unit would.
import os from 'node:os';
import { syncBuiltinESMExports } from 'node:module';

os.networkInterfaces = () => {
  const e = new Error('A system error occurred: uv_interface_addresses returned Unknown system error 97 (Unknown system error 97)');
  e.code = 'ERR_SYSTEM_ERROR';
  e.name = 'SystemError';
  throw e;
};
// The bundle imports { networkInterfaces } from 'node:os': update the ESM named exports too.
syncBuiltinESMExports();
