import { Interest } from './interest';
import { ALWAYS_REPORTED, Readiness } from './readiness';
import { TriggerFlags } from './trigger';

/**
 * One entry of the interest list: what a descriptor waits for, how, and the
 * token handed back with its events. Internal to the reactor; the ready list
 * and event buffers hold references to it, and `live` turns false when the
 * registration ends (unregister or close), which is how events already
 * gathered for it are dropped. A new `register` makes a new object, so an
 * fd number reused by another socket never sees the old one's events.
 */
export class Registration<T> {
  readonly fd: number;
  interest = 0;
  trigger = 0;
  token: T;
  /** The bits an event for this registration may carry. */
  mask = 0;
  /** One-shot registrations disarm after a delivery, until `modify`. */
  armed = true;
  /** Edge mode: bits that rose since the last delivery. */
  edges = 0;
  /** In the ready list now (so it is never in it twice). */
  queued = false;
  live = true;

  constructor(fd: number, interest: number, trigger: number, token: T) {
    this.fd = fd;
    this.token = token;
    this.set(interest, trigger, token);
  }

  /** Replaces interest, trigger and token (modify re-arms too). */
  set(interest: number, trigger: number, token: T): void {
    this.interest = interest;
    this.trigger = trigger;
    this.token = token;
    this.mask = interest | ALWAYS_REPORTED | ((interest & Interest.READABLE) !== 0 ? Readiness.READ_CLOSED : 0);
    this.armed = true;
  }

  get edgeTriggered(): boolean {
    return (this.trigger & TriggerFlags.EDGE) !== 0;
  }

  get oneshot(): boolean {
    return (this.trigger & TriggerFlags.ONESHOT) !== 0;
  }
}
