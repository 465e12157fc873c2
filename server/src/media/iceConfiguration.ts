// What a client's peer connections use to reach the SFU: the static ICE servers, a TURN credential
// of its own when the server shares a secret with coturn, and the ICE transport policy. Handed out
// with each session (POST /api/sessions), so a renewed session brings a fresh TURN credential.
import { mintTurnCredential, type TurnSettings } from '../auth/turnCredentials.ts';

export interface IceSettings {
  iceServers: RTCIceServer[];
  turn: TurnSettings | undefined;
  iceTransportPolicy: RTCIceTransportPolicy;
}

export interface IceConfiguration {
  iceServers: RTCIceServer[];
  iceTransportPolicy: RTCIceTransportPolicy;
}

export function iceConfigurationFor(
  settings: IceSettings,
  userId: string,
  nowMs = Date.now(),
): IceConfiguration {
  const turn = settings.turn === undefined ? [] : [mintTurnCredential(settings.turn, userId, nowMs)];
  return { iceServers: [...settings.iceServers, ...turn], iceTransportPolicy: settings.iceTransportPolicy };
}
