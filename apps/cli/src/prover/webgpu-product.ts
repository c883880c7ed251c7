/**
 * The proof product C = A · B on a WebGPU device (Dawn's Node binding, the optional npm package `webgpu`): one WGSL
 * kernel for Vulkan (NVIDIA, AMD, Intel, lavapipe), Metal (Apple silicon) and D3D12. Entries are int8 packed four
 * to a 32-bit word along the inner dimension and multiplied with `dot4I8Packed`, accumulated in i32: exact integer
 * arithmetic, so every correct device returns the CPU prover's bits (|C| ≤ 16² · inner, far below 2^31).
 */

// Minimal structural types of what is used from the WebGPU API (the `webgpu` package may be absent).
type Gpu = {
  requestAdapter(options?: object): Promise<GpuAdapter | null>;
  wgslLanguageFeatures?: Set<string>;
};
type GpuAdapter = {
  info: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isFallbackAdapter?: boolean;
  };
  limits: Record<string, number>;
  requestDevice(descriptor?: object): Promise<GpuDevice>;
};
// biome-ignore lint/suspicious/noExplicitAny: the WebGPU device's API is used as the specification defines it
type GpuDevice = any;

/** A WebGPU device ready to compute proof products. */
export interface WebGpuProduct {
  /** The adapter, in words ("nvidia ampere ...", "mesa software llvmpipe ..."). */
  readonly adapter: string;
  /** True for a software adapter (lavapipe, SwiftShader, WARP): exact, but at CPU speed. */
  readonly software: boolean;
  /** Row-major n × n product of A (n × inner) and B (inner × n), both int8 row-major. */
  product(a: Int8Array, b: Int8Array, n: number, inner: number): Promise<Int32Array>;
  close(): void;
}

const TILE = 16;

function kernel(builtinDot: boolean): string {
  const dot = builtinDot
    ? "fn dot4(x: u32, y: u32) -> i32 { return dot4I8Packed(x, y); }"
    : `fn dot4(x: u32, y: u32) -> i32 {
  var s = 0i;
  for (var k = 0u; k < 32u; k += 8u) { s += extractBits(i32(x), k, 8u) * extractBits(i32(y), k, 8u); }
  return s;
}`;
  return /* wgsl */ `
${dot}
struct Dims { n: u32, words: u32, row0: u32, rows: u32 }
@group(0) @binding(0) var<uniform> dims: Dims;
@group(0) @binding(1) var<storage, read> a: array<u32>;   // n rows of A, words per row
@group(0) @binding(2) var<storage, read> bt: array<u32>;  // n columns of B, words per column
@group(0) @binding(3) var<storage, read_write> c: array<i32>; // rows × n, from row0
var<workgroup> ta: array<array<u32, ${TILE}>, ${TILE}>;
var<workgroup> tb: array<array<u32, ${TILE}>, ${TILE}>;

@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let row = dims.row0 + wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  let bcol = wid.x * ${TILE}u + lid.y;
  var acc = 0i;
  for (var w0 = 0u; w0 < dims.words; w0 += ${TILE}u) {
    let w = w0 + lid.x;
    var av = 0u;
    if (row < dims.row0 + dims.rows && w < dims.words) { av = a[row * dims.words + w]; }
    ta[lid.y][lid.x] = av;
    var bv = 0u;
    if (bcol < dims.n && w < dims.words) { bv = bt[bcol * dims.words + w]; }
    tb[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < ${TILE}u; k++) { acc += dot4(ta[lid.y][k], tb[lid.x][k]); }
    workgroupBarrier();
  }
  if (row < dims.row0 + dims.rows && col < dims.n) { c[(row - dims.row0) * dims.n + col] = acc; }
}`;
}

/** Packs a row-major rows × inner int8 matrix into rows × words u32, four entries a word, lowest byte first. */
export function packRows(m: Int8Array, rows: number, inner: number): Uint32Array {
  const words = Math.ceil(inner / 4);
  const out = new Uint32Array(rows * words);
  for (let r = 0; r < rows; r++) {
    for (let l = 0; l < inner; l++) out[r * words + (l >> 2)]! |= (m[r * inner + l]! & 0xff) << (8 * (l & 3));
  }
  return out;
}

/** B (inner × n) as its n columns packed along inner: what the kernel's dot products read. */
export function packColumns(b: Int8Array, inner: number, n: number): Uint32Array {
  const words = Math.ceil(inner / 4);
  const out = new Uint32Array(n * words);
  for (let l = 0; l < inner; l++) {
    const shift = 8 * (l & 3);
    const w = l >> 2;
    for (let j = 0; j < n; j++) out[j * words + w]! |= (b[l * n + j]! & 0xff) << shift;
  }
  return out;
}

/**
 * Opens the first WebGPU adapter, or says why there is none: the `webgpu` package missing or not loadable on this
 * platform, or no adapter (no GPU driver with Vulkan, Metal or D3D12). Software adapters are refused unless
 * `allowSoftware` (tests check exactness on lavapipe; a device would miss every GPU deadline on one).
 */
export async function openWebGpuProduct(
  options: { allowSoftware?: boolean } = {},
): Promise<WebGpuProduct | string> {
  let gpu: Gpu;
  try {
    // A computed specifier: the packed worker's bundler leaves the optional native package out.
    const name = "webgpu";
    const mod = (await import(name)) as { create(flags: string[]): Gpu; globals: object };
    Object.assign(globalThis, mod.globals);
    gpu = mod.create([]);
  } catch (error) {
    return `the optional package webgpu cannot load here (${(error as Error).message.split("\n")[0]?.slice(0, 160)})`;
  }
  const adapter = await gpu.requestAdapter({ powerPreference: "high-performance" }).catch(() => null);
  if (!adapter) return "WebGPU found no adapter (no Vulkan, Metal or D3D12 driver for a GPU)";
  const { info } = adapter;
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
  const software = info.isFallbackAdapter === true || /llvmpipe|lavapipe|swiftshader|warp/i.test(name);
  if (software && !options.allowSoftware) return `WebGPU found only a software adapter (${name})`;
  const device: GpuDevice = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  });
  const builtinDot = gpu.wgslLanguageFeatures?.has("packed_4x8_integer_dot_product") === true;
  const module = device.createShaderModule({ code: kernel(builtinDot) });
  const pipeline = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const maxBinding = Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
  const usage = globalThis as unknown as {
    GPUBufferUsage: Record<string, number>;
    GPUMapMode: Record<string, number>;
  };
  const { STORAGE, COPY_DST, COPY_SRC, UNIFORM, MAP_READ } = usage.GPUBufferUsage as Record<string, number>;

  const upload = (data: Uint32Array, flags: number) => {
    const buffer = device.createBuffer({ size: Math.max(16, data.byteLength), usage: flags | COPY_DST });
    device.queue.writeBuffer(buffer, 0, data);
    return buffer;
  };

  // Dawn tears the device down when its instance is collected: the returned object keeps the instance alive.
  const keepAlive = { gpu, adapter };
  return {
    adapter: name,
    software,
    async product(a, b, n, inner) {
      const words = Math.ceil(inner / 4);
      const aBuf = upload(packRows(a, n, inner), STORAGE!);
      const bBuf = upload(packColumns(b, inner, n), STORAGE!);
      // The output is computed in bands of rows that fit one storage binding.
      const bandRows = Math.max(TILE, Math.min(n, Math.floor(maxBinding / (n * 4) / TILE) * TILE));
      const out = new Int32Array(n * n);
      const cBuf = device.createBuffer({ size: bandRows * n * 4, usage: STORAGE! | COPY_SRC! });
      const readBuf = device.createBuffer({ size: bandRows * n * 4, usage: MAP_READ! | COPY_DST! });
      const dimsBuf = device.createBuffer({ size: 16, usage: UNIFORM! | COPY_DST! });
      try {
        for (let row0 = 0; row0 < n; row0 += bandRows) {
          const rows = Math.min(bandRows, n - row0);
          device.queue.writeBuffer(dimsBuf, 0, new Uint32Array([n, words, row0, rows]));
          const bind = device.createBindGroup({
            layout: pipeline.getBindGroupLayout(0),
            entries: [
              { binding: 0, resource: { buffer: dimsBuf } },
              { binding: 1, resource: { buffer: aBuf } },
              { binding: 2, resource: { buffer: bBuf } },
              { binding: 3, resource: { buffer: cBuf, size: rows * n * 4 } },
            ],
          });
          const encoder = device.createCommandEncoder();
          const pass = encoder.beginComputePass();
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, bind);
          pass.dispatchWorkgroups(Math.ceil(n / TILE), Math.ceil(rows / TILE));
          pass.end();
          encoder.copyBufferToBuffer(cBuf, 0, readBuf, 0, rows * n * 4);
          device.queue.submit([encoder.finish()]);
          await readBuf.mapAsync(usage.GPUMapMode.READ, 0, rows * n * 4);
          out.set(new Int32Array(readBuf.getMappedRange(0, rows * n * 4)), row0 * n);
          readBuf.unmap();
        }
      } finally {
        for (const buffer of [aBuf, bBuf, cBuf, readBuf, dimsBuf]) buffer.destroy();
      }
      return out;
    },
    close() {
      device.destroy();
      void keepAlive;
    },
  };
}
