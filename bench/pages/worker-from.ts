/** A module worker from a script the page fetches (the bench page's router serves it; see page-server.ts); `fragment` (#…) reaches the worker as its location's hash. */
export async function workerFrom(path: string, fragment = ''): Promise<() => Worker> {
  const source = await (await fetch(path)).text();
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' })) + fragment;
  return () => new Worker(url, { type: 'module' });
}
