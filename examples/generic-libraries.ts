/**
 * Three Python libraries from configuration alone — no adapter code: `statistics`, `json` and `hashlib` from the
 * standard library, and numpy when it is installed. Run it with `npm run example:generic`.
 */
import { InvalidArgumentsError, type LibraryConfig, NDArray, Snakepit } from 'snakepit';

const libraries: LibraryConfig[] = [
  { name: 'statistics', module: 'statistics', namespace: 'stats', functions: ['mean', 'stdev', 'quantiles'] },
  { name: 'json', module: 'json', aliases: { encode: 'dumps' } },
  { name: 'hashlib', module: 'hashlib', functions: ['pbkdf2_hmac', 'blake2b'], lazy: true },
  { name: 'numpy', module: 'numpy', functions: ['linspace', 'mean', 'std', 'sqrt'], lazy: true },
];

await Snakepit.runAsScript({ libraries, size: 2, logLevel: 'warn' }, async (pit) => {
  const readings = [12.5, 13.1, 12.9, 14.2, 13.8, 12.2, 13.4];

  console.log('python.stats.mean    =', await pit.execute('python.stats.mean', { _args: [readings] }));
  console.log('python.stats.stdev   =', await pit.execute('python.stats.stdev', { _args: [readings] }));
  const quartiles = await pit.execute('python.stats.quantiles', { _args: [readings], n: 4 });
  console.log('python.stats.quantiles(n=4) =', quartiles);

  const report = await pit.execute('python.json.encode', {
    _args: [{ readings: readings.length, quartiles, at: new Date().toISOString() }],
    indent: 2,
    sort_keys: true,
  });
  console.log('python.json.encode (an alias of dumps) =\n' + String(report));

  const key = (await pit.execute('python.hashlib.pbkdf2_hmac', {
    _args: ['sha256', Buffer.from(String(report)), Buffer.from('salt'), 10_000],
  })) as Buffer;
  console.log('python.hashlib.pbkdf2_hmac =', key.toString('hex'));

  // Bad arguments are refused before the function runs, with its signature.
  await pit.execute('python.stats.mean', { _args: [readings], weights: [1] }).catch((err: unknown) => {
    if (err instanceof InvalidArgumentsError) console.log('refused:', err.message);
    else throw err;
  });

  // A lazy library is imported by the first call that needs it; numpy arrays arrive as NDArrays.
  try {
    const xs = (await pit.execute('python.numpy.linspace', { _args: [0, 1, 5] })) as NDArray;
    console.log(`python.numpy.linspace = ${xs.dtype}[${xs.shape.join(', ')}]`, xs.toArray());
    const roots = (await pit.execute('python.numpy.sqrt', {
      _args: [new Float64Array([1, 4, 9])],
    })) as NDArray;
    console.log('python.numpy.sqrt(Float64Array [1, 4, 9]) =', [...roots.data]);
  } catch (err) {
    console.log(
      "numpy is not installed in the workers' Python (`npx snakepit setup --dev` adds it):",
      (err as Error).name,
    );
  }

  console.log(
    '\nlibraries:',
    pit
      .libraries()
      .map((l) => `${l.name} ${l.loaded ? `(${l.functions} functions)` : '(lazy)'}`)
      .join(', '),
  );
});
