/**
 * Throw-away TLS material for tests, made with `openssl` at test time (no key is ever committed): a CA, a server
 * certificate for `localhost`, 127.0.0.1 and the names given, a client certificate, and a second CA that signed
 * nothing we use (to prove verification fails against the wrong roots).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCerts {
  dir: string;
  ca: string;
  otherCa: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  remove(): void;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** `openssl req` making a new P-256 key `<name>.key` and, from it, `out` (a CSR, or with `-x509` a certificate). */
function newKey(dir: string, name: string, out: string, cn: string, extra: string[] = []): void {
  const key = [
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
  ];
  openssl(dir, ['req', ...extra, ...key, '-out', out, '-subj', `/CN=${cn}`]);
}

function keyAndCsr(dir: string, name: string, cn: string): void {
  newKey(dir, name, `${name}.csr`, cn);
}

function selfSignedCa(dir: string, name: string): void {
  newKey(dir, name, `${name}.pem`, name, ['-x509', '-days', '2']);
}

function sign(dir: string, name: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.pem`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

/** Make the certificates; `serverNames` are extra DNS names (and IPs, given as `IP:10.0.0.1`) of the server. */
export function makeTestCerts(serverNames: string[] = []): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'snakepit-certs-'));
  selfSignedCa(dir, 'ca');
  selfSignedCa(dir, 'other-ca');
  keyAndCsr(dir, 'server', 'snakepit-worker');
  const alt = [
    'DNS:localhost',
    'IP:127.0.0.1',
    ...serverNames.map((n) => (n.startsWith('IP:') ? n : `DNS:${n}`)),
  ];
  sign(dir, 'server', `subjectAltName=${alt.join(',')}\nextendedKeyUsage=serverAuth\n`);
  keyAndCsr(dir, 'client', 'snakepit-host');
  sign(dir, 'client', 'extendedKeyUsage=clientAuth\n');
  const at = (f: string): string => join(dir, f);
  return {
    dir,
    ca: at('ca.pem'),
    otherCa: at('other-ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
