// Where a browser keeps its MLS identity (one signature key pair per browser and user id: two tabs
// of one browser are two members, and MLS needs each member's signature key to be its own) and
// what it has seen of other users' keys (trust on first use). IndexedDB in the browser, memory in Node tests.

export interface StoredIdentity {
  /** Ed25519 (both supported MLS suites sign with Ed25519). */
  signaturePublicKey: Uint8Array;
  signaturePrivateKey: Uint8Array;
}

/** Where this browser's MLS signature key pair is kept (one per browser and user id). */
export interface IdentityStore {
  load(): Promise<StoredIdentity | undefined>;
  save(identity: StoredIdentity): Promise<void>;
}

/** user id → the signature public key first seen for it. */
export interface TrustStore {
  get(userId: string): Promise<Uint8Array | undefined>;
  set(userId: string, signatureKey: Uint8Array): Promise<void>;
}

/** An identity kept in memory only: a fresh key pair per process (Node tests, the load generator). */
export class MemoryIdentityStore implements IdentityStore {
  #identity: StoredIdentity | undefined;
  async load(): Promise<StoredIdentity | undefined> {
    return this.#identity;
  }
  async save(identity: StoredIdentity): Promise<void> {
    this.#identity = identity;
  }
}

/** Keys seen, in memory only: trust on first use lasts as long as the process. */
export class MemoryTrustStore implements TrustStore {
  readonly #keys = new Map<string, Uint8Array>();
  async get(userId: string): Promise<Uint8Array | undefined> {
    return this.#keys.get(userId);
  }
  async set(userId: string, signatureKey: Uint8Array): Promise<void> {
    this.#keys.set(userId, signatureKey);
  }
}

const DB_NAME = 'conclave-keys';
const IDENTITY = 'identity';
const TRUST = 'trust';

function openDb(factory: IDBFactory): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(DB_NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains(IDENTITY)) db.createObjectStore(IDENTITY);
      if (!db.objectStoreNames.contains(TRUST)) db.createObjectStore(TRUST);
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB open failed'));
  });
}

function run<T>(
  db: IDBDatabase,
  store: string,
  mode: IDBTransactionMode,
  op: (s: IDBObjectStore) => IDBRequest,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const tx = db.transaction(store, mode);
    const request = op(tx.objectStore(store));
    tx.oncomplete = () => resolve(request.result as T);
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Both stores in one IndexedDB database ('conclave-keys'), for the browser. */
export class IndexedDbKeyStores implements IdentityStore, TrustStore {
  readonly #db: Promise<IDBDatabase>;
  readonly #identityName: string;

  /** `identityName` names the identity record, e.g. after the user id it signs for. */
  constructor(factory: IDBFactory = indexedDB, identityName = 'self') {
    this.#db = openDb(factory);
    this.#identityName = identityName;
  }

  async load(): Promise<StoredIdentity | undefined> {
    const value = await run<unknown>(await this.#db, IDENTITY, 'readonly', (s) => s.get(this.#identityName));
    if (value === undefined || value === null || typeof value !== 'object') return undefined;
    const { signaturePublicKey, signaturePrivateKey } = value as Record<string, unknown>;
    if (!(signaturePublicKey instanceof Uint8Array) || !(signaturePrivateKey instanceof Uint8Array))
      return undefined;
    return { signaturePublicKey, signaturePrivateKey };
  }

  async save(identity: StoredIdentity): Promise<void> {
    await run(await this.#db, IDENTITY, 'readwrite', (s) => s.put(identity, this.#identityName));
  }

  async get(userId: string): Promise<Uint8Array | undefined> {
    const value = await run<unknown>(await this.#db, TRUST, 'readonly', (s) => s.get(userId));
    return value instanceof Uint8Array ? value : undefined;
  }

  async set(userId: string, signatureKey: Uint8Array): Promise<void> {
    await run(await this.#db, TRUST, 'readwrite', (s) => s.put(signatureKey, userId));
  }
}
