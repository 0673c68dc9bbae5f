/** The configs the typegen tests generate clients for (test/typegen/*.test.ts). */
import type { SnakepitConfig } from '../../src/index.js';
import { FIXTURES_PYTHONPATH } from '../helpers.js';

export const ADAPTER = 'snakepit_fixtures.typegen_adapter:TypegenAdapter';

/** Only what this repository controls: the golden files do not move with Python or numpy versions. */
export const GOLDEN_CONFIG: SnakepitConfig = {
  pools: [
    {
      name: 'default',
      adapter: ADAPTER,
      pythonPath: [FIXTURES_PYTHONPATH],
      libraries: [
        {
          name: 'lib',
          module: 'snakepit_fixtures.typegen_lib',
          functions: ['area', 'total', 'span', 'countdown', 'weekday', 'describe', 'find', 'Box'],
        },
      ],
    },
  ],
};

/** The issue's list: math, statistics, json, a numpy subset and a user adapter. */
export const FULL_CONFIG: SnakepitConfig = {
  pools: [
    {
      ...GOLDEN_CONFIG.pools![0]!,
      libraries: [
        ...GOLDEN_CONFIG.pools![0]!.libraries!,
        { name: 'math', module: 'math', functions: ['sqrt', 'log', 'hypot', 'floor', 'isclose'] },
        { name: 'statistics', module: 'statistics', functions: ['mean', 'median', 'quantiles', 'stdev'] },
        { name: 'json', module: 'json', functions: ['dumps', 'loads'] },
        {
          name: 'numpy',
          module: 'numpy',
          functions: ['mean', 'std', 'sum', 'ones', 'zeros', 'arange', 'dot', 'sqrt', 'linspace'],
        },
      ],
    },
  ],
};
