/** AWS entry: the handler factory over the composition root's deps, built on the first invocation. */
import { createInspectorHandler } from '../../handlers/inspector';
import { lazyHandler } from '../lazy';
import { inspectorDeps } from '../wiring';

export const handler = lazyHandler(() => createInspectorHandler(inspectorDeps()));
