/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createCompleterHandler } from '../../handlers/completer';
import { lazyHandler } from '../lazy';
import { completerDeps } from '../wiring';

export const handler = lazyHandler(() => createCompleterHandler(completerDeps()));
