/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createCreateSessionHandler } from '../../handlers/create-session';
import { lazyHandler } from '../lazy';
import { apiDeps } from '../wiring';

export const handler = lazyHandler(() => createCreateSessionHandler(apiDeps()));
