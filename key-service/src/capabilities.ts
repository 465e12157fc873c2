// What every Conclave member's leaf says it can do (RFC 9420 §7.2): ts-mls's defaults plus the
// meeting's roles extension, without which no leaf may join a group that carries the roles.
import { defaultCapabilities, type Capabilities } from 'ts-mls';
import { ROLES_EXTENSION_TYPE } from './roles.ts';

/** The capabilities every Conclave member's KeyPackage and leaf carry. */
export function memberCapabilities(): Capabilities {
  const caps = defaultCapabilities();
  return { ...caps, extensions: [...caps.extensions, ROLES_EXTENSION_TYPE] };
}
