import type { RequestHandler } from "../dispatcher.js";

/** `initialize`: the handshake (the session refuses a second one and invalid client names). */
export const initialize: RequestHandler<"initialize"> = (params, context) => context.session.initialize(params);
