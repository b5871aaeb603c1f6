/** A module worker from a script the page fetches (the bench page's router serves it; see page-server.ts). */
export async function workerFrom(path: string): Promise<() => Worker> {
  const source = await (await fetch(path)).text();
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  return () => new Worker(url, { type: 'module' });
}
