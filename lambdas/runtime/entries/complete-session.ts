/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createCompleteSessionHandler } from '../../handlers/complete-session';
import { lazyHandler } from '../lazy';
import { completeSessionDeps } from '../wiring';

export const handler = lazyHandler(() => createCompleteSessionHandler(completeSessionDeps()));
