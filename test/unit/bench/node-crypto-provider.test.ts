// The simulated members' CryptoProvider (test/bench/load/nodeCryptoProvider.ts) against RFC 5869's
// HKDF vector and against ts-mls's own noble provider: same hashes, MACs, HKDF and Ed25519, and an
// MLS group whose members use the two providers agrees on every epoch's exporter.
import { describe, expect, it } from 'vitest';
import {
  createGroup,
  createGroupInfoWithExternalPubAndRatchetTree,
  defaultLifetime,
  emptyPskIndex,
  generateKeyPackage,
  getCiphersuiteFromName,
  getCiphersuiteImpl,
  joinGroupExternal,
  mlsExporter,
  nobleCryptoProvider,
  processPublicMessage,
} from 'ts-mls';
import { memberCapabilities } from '@conclave/key-service/capabilities';
import { nodeCryptoProvider } from '../../bench/load/nodeCryptoProvider.ts';

const suite = getCiphersuiteFromName('MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519');
const native = await getCiphersuiteImpl(suite, nodeCryptoProvider);
const noble = await getCiphersuiteImpl(suite, nobleCryptoProvider);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const enc = new TextEncoder();

describe('nodeCryptoProvider', () => {
  it('HKDF-SHA256 gives RFC 5869 test case 1', async () => {
    const prk = await native.kdf.extract(bytes('000102030405060708090a0b0c'), bytes('0b'.repeat(22)));
    expect(hex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    const okm = await native.kdf.expand(prk, bytes('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(hex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  it('agrees with the noble provider on hashes, MACs, HKDF with an empty salt, and Ed25519', async () => {
    const data = enc.encode('conclave');
    expect(hex(await native.hash.digest(data))).toBe(hex(await noble.hash.digest(data)));
    expect(hex(await native.hash.mac(data, data))).toBe(hex(await noble.hash.mac(data, data)));
    const tag = await noble.hash.mac(data, data);
    expect(await native.hash.verifyMac(data, tag, data)).toBe(true);
    expect(await native.hash.verifyMac(data, tag.slice(1), data)).toBe(false);
    const prk = await native.kdf.extract(new Uint8Array(0), data);
    expect(hex(prk)).toBe(hex(await noble.kdf.extract(new Uint8Array(0), data)));
    expect(hex(await native.kdf.expand(prk, data, 100))).toBe(hex(await noble.kdf.expand(prk, data, 100)));

    const ours = await native.signature.keygen();
    const theirs = await noble.signature.keygen();
    const signed = await native.signature.sign(ours.signKey, data);
    expect(await noble.signature.verify(ours.publicKey, data, signed)).toBe(true);
    expect(
      await native.signature.verify(theirs.publicKey, data, await noble.signature.sign(theirs.signKey, data)),
    ).toBe(true);
    expect(await native.signature.verify(ours.publicKey, enc.encode('other'), signed)).toBe(false);
    expect(await native.signature.verify(ours.publicKey.slice(1), data, signed)).toBe(false);
  });

  it('runs MLS members that interoperate with members on the noble provider', async () => {
    const keyPackage = (name: string, impl: typeof native) =>
      generateKeyPackage(
        { credentialType: 'basic', identity: enc.encode(name) },
        memberCapabilities(),
        defaultLifetime,
        [],
        impl,
      );
    const alice = await keyPackage('alice-0001', noble);
    let aliceState = await createGroup(
      enc.encode('group'),
      alice.publicPackage,
      alice.privatePackage,
      [],
      noble,
    );
    const info = await createGroupInfoWithExternalPubAndRatchetTree(aliceState, [], noble);
    const bob = await keyPackage('bob-00001', native);
    const joined = await joinGroupExternal(info, bob.publicPackage, bob.privatePackage, false, native);
    aliceState = (await processPublicMessage(aliceState, joined.publicMessage, emptyPskIndex, noble))
      .newState;
    const exported = async (state: typeof aliceState, impl: typeof native) =>
      hex(
        await mlsExporter(
          state.keySchedule.exporterSecret,
          'SFrame 1.0 Base Key',
          new Uint8Array(0),
          16,
          impl,
        ),
      );
    expect(await exported(joined.newState, native)).toBe(await exported(aliceState, noble));
  });
});
