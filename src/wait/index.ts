import { forAll } from "./all-wait.js";
import { forExec } from "./exec-wait.js";
import { forHttp } from "./http-wait.js";
import { forLog } from "./log-wait.js";
import { forPort } from "./port-wait.js";

export type { HttpWaitOptions } from "./http-wait.js";
export type { WaitDescription, WaitStrategy } from "./wait-strategy.js";

/**
 * Wait strategies: how `Image.bake` knows a service is ready to be frozen.
 *
 * @example
 * await Image.bake(ref, { waitFor: wait.forLog(/ready to accept connections/, 2) });
 */
export const wait = { forPort, forLog, forExec, forHttp, forAll };
