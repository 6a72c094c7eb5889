/**
 * Self-signed TLS identity for go-plugin AutoMTLS.
 *
 * With AutoMTLS, Vault hands the plugin its client certificate in
 * PLUGIN_CLIENT_CERT and expects the plugin to answer with its own
 * certificate in the handshake line; each side then pins the other's
 * certificate as its only CA. Node can generate keys and sign, but has no
 * certificate builder, so this module assembles the DER itself. It mirrors
 * the template in go-plugin's mtls.go (generateCert), except that it uses
 * P-256/SHA-256 instead of P-521/SHA-512, which is faster and just as
 * acceptable to Go's TLS stack.
 */
import * as crypto from 'node:crypto';
import * as der from './der.js';

/** A TLS identity generated for one process start. */
export interface TlsIdentity {
  /** Self-signed certificate, PEM ("CERTIFICATE"), 64-character lines. */
  certPem: string;
  /** Private key, PKCS#8 PEM ("PRIVATE KEY"). */
  keyPem: string;
  /** The same certificate as raw DER. */
  certDer: Buffer;
}

/** go-plugin's lifetime (~30 years): the cert lives as long as the process. */
const VALIDITY_HOURS = 262_980;
const MS_PER_HOUR = 3_600_000;
/** Backdating notBefore tolerates small clock differences between processes. */
const CLOCK_SKEW_MS = 30_000;
/** 128 random bits, top bit cleared so the serial is positive and ≤ 16 bytes. */
const SERIAL_BYTES = 16;
const X509_VERSION_3 = 2; // the version field is zero-based
const HOST = 'localhost';
const ORGANIZATION = 'HashiCorp';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

/**
 * KeyUsage bits, numbered from the most significant bit of the first byte
 * (RFC 5280 §4.2.1.3). Same set as go-plugin: keyCertSign because the cert
 * is its own CA; the rest cover ECDHE-ECDSA handshakes.
 */
const KEY_USAGE = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyAgreement: 4,
  keyCertSign: 5,
} as const;

/** GeneralName CHOICE tag for dNSName. */
const GENERAL_NAME_DNS = 2;
/** Context tags inside TBSCertificate. */
const TBS_VERSION_TAG = 0;
const TBS_EXTENSIONS_TAG = 3;

/** AlgorithmIdentifier for ECDSA signatures: RFC 5758 says parameters MUST be absent. */
const SIGNATURE_ALGORITHM = der.sequence(der.oid(OID.ecdsaWithSha256));

/** O=HashiCorp, CN=localhost, in the order Go's pkix.Name emits them. */
const NAME = der.sequence(
  der.set(der.sequence(der.oid(OID.organizationName), der.printableString(ORGANIZATION))),
  der.set(der.sequence(der.oid(OID.commonName), der.printableString(HOST))),
);

/** Extension ::= SEQUENCE { extnID, critical DEFAULT FALSE, extnValue OCTET STRING }. */
function extension(id: string, critical: boolean, value: Buffer): Buffer {
  // DER forbids encoding a DEFAULT value, so FALSE is omitted, not written.
  const flag = critical ? [der.boolean(true)] : [];
  return der.sequence(der.oid(id), ...flag, der.octetString(value));
}

/**
 * KeyUsage as a named BIT STRING. DER strips trailing zero bits, so the
 * unused-bit count is derived from the highest bit set.
 */
function keyUsage(bits: readonly number[]): Buffer {
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const bit of bits) {
    const index = Math.floor(bit / 8);
    bytes[index] = (bytes[index] ?? 0) | (0x80 >> bit % 8);
  }
  return der.bitString(bytes, 7 - (highest % 8));
}

/** Uncompressed EC point (0x04 || X || Y): the subjectPublicKey BIT STRING content. */
function publicKeyPoint(publicKey: crypto.KeyObject): Buffer {
  const { x, y } = publicKey.export({ format: 'jwk' });
  if (typeof x !== 'string' || typeof y !== 'string') {
    throw new Error('EC public key export lacks x/y coordinates');
  }
  return Buffer.concat([
    Buffer.from([0x04]),
    Buffer.from(x, 'base64url'),
    Buffer.from(y, 'base64url'),
  ]);
}

function extensions(publicKey: crypto.KeyObject): Buffer {
  const { digitalSignature, keyEncipherment, keyAgreement, keyCertSign } = KEY_USAGE;
  return der.sequence(
    extension(
      OID.keyUsage,
      true,
      keyUsage([digitalSignature, keyEncipherment, keyAgreement, keyCertSign]),
    ),
    // Both purposes are checked: serverAuth when Vault connects to the
    // plugin's gRPC server, clientAuth when the plugin dials Vault's broker
    // presenting this same certificate.
    extension(OID.extKeyUsage, false, der.sequence(der.oid(OID.serverAuth), der.oid(OID.clientAuth))),
    // CA:TRUE because each peer trusts this certificate as its CA root,
    // and Go only accepts a root that is a CA with keyCertSign.
    extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
    // Method 1 of RFC 5280 §4.2.1.2, the same one Go uses for CA certs.
    extension(
      OID.subjectKeyIdentifier,
      false,
      der.octetString(crypto.createHash('sha1').update(publicKeyPoint(publicKey)).digest()),
    ),
    // Vault dials with ServerName "localhost", and Go matches it against
    // SANs only (the CN is ignored), so without this the handshake fails.
    extension(
      OID.subjectAltName,
      false,
      der.sequence(der.contextPrimitive(GENERAL_NAME_DNS, Buffer.from(HOST, 'ascii'))),
    ),
  );
}

/** Random positive serial; RFC 5280 requires positive and non-zero. */
function randomSerial(): Buffer {
  for (;;) {
    const serial = crypto.randomBytes(SERIAL_BYTES);
    serial[0] = (serial[0] ?? 0) & 0x7f;
    if (serial.some((byte) => byte !== 0)) return serial;
  }
}

/** Standard PEM armor: base64 body wrapped at 64 characters (RFC 7468). */
function toPem(label: string, body: Buffer): string {
  const lines = body.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/**
 * Generates a fresh ECDSA P-256 key and a self-signed certificate for it,
 * valid from 30 s before `now` for ~30 years, for CN/SAN `localhost`.
 */
export function generateIdentity(now: Date = new Date()): TlsIdentity {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const notAfter = new Date(now.getTime() + VALIDITY_HOURS * MS_PER_HOUR);

  const tbs = der.sequence(
    der.contextExplicit(TBS_VERSION_TAG, der.smallInteger(X509_VERSION_3)),
    der.integer(randomSerial()),
    SIGNATURE_ALGORITHM,
    NAME, // issuer
    der.sequence(der.time(notBefore), der.time(notAfter)),
    NAME, // subject
    // Node already produces a correct SubjectPublicKeyInfo (with the curve OID).
    publicKey.export({ type: 'spki', format: 'der' }),
    der.contextExplicit(TBS_EXTENSIONS_TAG, extensions(publicKey)),
  );

  // X.509 wants the DER ECDSA-Sig-Value, not the raw r||s (IEEE P1363) form.
  const signature = crypto.sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certDer = der.sequence(tbs, SIGNATURE_ALGORITHM, der.bitString(signature));

  return {
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    certDer,
  };
}
