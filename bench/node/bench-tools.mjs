/* global setTimeout, process */
// The benchmark's tools for the Node runtime (`runtime: "node"`): the same workloads as bench/python/bench_adapter.py.

export function add({ a, b }) {
  return a + b;
}

export function sum_list({ values }) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export function sum_f64({ data }) {
  let total = 0;
  for (const v of data.data) total += v;
  return total;
}

export function cpu({ ms }) {
  const end = Date.now() + ms;
  let n = 0;
  while (Date.now() < end) n++;
  return n;
}

export async function sleep({ ms }) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
}

export function* stream({ n }) {
  for (let i = 0; i < n; i++) yield i;
}

export function echo_bytes({ data }) {
  return data;
}

export function pid() {
  return process.pid;
}

export function die() {
  process.exit(1);
}

function inner() {
  throw new Error('bench failure marker');
}

export function fail() {
  return inner();
}
