import { applyOverrides, presetConfig } from '../../trainer/config';
import { checkFitsWasmHeap, isWasmHeapFailure, wasmHeapError } from '../../trainer/wasm-heap';

/** A module whose one function stores an i32 at byte 70,000 of a 64 KiB memory: past its end. */
const OUT_OF_BOUNDS_STORE = Buffer.from(
  [
    '0061736d01000000', // magic, version 1
    '010401600000', // type section: () -> ()
    '03020100', // function section: one function of type 0
    '0503010001', // memory section: one memory of one 64 KiB page
    '07050101660000', // export section: function 0 as "f"
    '0a0d010b0041f0a20441013602000b', // code: i32.const 70000, i32.const 1, i32.store
  ].join(''),
  'hex',
);

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('isWasmHeapFailure', () => {
  it('recognises a store past the end of a wasm memory, as a failed allocation leads to', () => {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(OUT_OF_BOUNDS_STORE));
    const error = thrownBy(() => (instance.exports.f as () => void)());
    expect((error as Error).message).toMatch(/memory access out of bounds/);
    expect(isWasmHeapFailure(error)).toBe(true);
  });

  it('recognises a wasm memory refusing to grow past its maximum', () => {
    const error = thrownBy(() => new WebAssembly.Memory({ initial: 1, maximum: 1 }).grow(1));
    expect(isWasmHeapFailure(error)).toBe(true);
  });

  it("recognises emscripten's out-of-memory abort, and its bare abort, which `small` at 256 px ends in", () => {
    expect(isWasmHeapFailure(new Error('Aborted(OOM). Build with -sASSERTIONS for more info.'))).toBe(true);
    const bare = new Error('Aborted(). Build with -sASSERTIONS for more info.');
    bare.name = 'RuntimeError';
    expect(isWasmHeapFailure(bare)).toBe(true);
  });

  it('leaves other failures alone', () => {
    expect(isWasmHeapFailure(new Error('memory access out of bounds'))).toBe(false); // not from wasm
    expect(isWasmHeapFailure(new TypeError('x is not a function'))).toBe(false);
    expect(isWasmHeapFailure(new RangeError('Invalid array length'))).toBe(false);
    expect(isWasmHeapFailure('memory access out of bounds')).toBe(false);
    const unreachable = new Error('unreachable');
    unreachable.name = 'RuntimeError';
    expect(isWasmHeapFailure(unreachable)).toBe(false);
  });
});

describe('wasmHeapError', () => {
  const cfg = applyOverrides(presetConfig('small'), { cropSize: '256', loadSize: '286' });

  it('names the crop, the estimate, the limit and what to change', () => {
    const { message } = wasmHeapError(cfg, 1, undefined);
    expect(message).toMatch(/iteration 1:/);
    expect(message).toMatch(/4\.0 GiB/);
    expect(message).toMatch(/256 px crop, batch 1, ngf 16 keeps at least 1\.\d GiB/);
    expect(message).toMatch(/Lower cropSize, batchSize or ngf, or train on a GPU/);
    expect(message).toMatch(/No checkpoint of this run was written\./);
  });

  it("quotes the backend's own words", () => {
    const cause = new Error('Aborted(). Build with -sASSERTIONS for more info.');
    expect(wasmHeapError(cfg, 3, undefined, cause).message).toMatch(
      /^The wasm backend ran out of memory in iteration 3 \(it stopped with "Aborted\(\)\. Build with -sASSERTIONS for more info\."\): /,
    );
  });

  it('says the last checkpoint is intact', () => {
    const { message } = wasmHeapError(cfg, 301, '/runs/a/checkpoints/ckpt-00000300');
    expect(message).toMatch(/iteration 301:.*The last checkpoint, \/runs\/a\/checkpoints\/ckpt-00000300, is intact\./);
  });

  it('grows its estimate with the crop', () => {
    const at = (crop: number) =>
      Number(
        /at least ([\d.]+) GiB/.exec(
          wasmHeapError(
            applyOverrides(presetConfig('small'), { cropSize: String(crop), loadSize: String(crop + 30) }),
            1,
            undefined,
          ).message,
        )![1],
      );
    expect(at(256)).toBeGreaterThan(at(128));
  });
});

describe('checkFitsWasmHeap', () => {
  it("refuses `paper` at its own 256 px crop, whose tensors alone pass the heap's 4 GiB", () => {
    expect(() => checkFitsWasmHeap(presetConfig('paper'))).toThrow(/cannot fit in the wasm backend's memory/);
  });

  it('lets through what may fit, and leaves the rest to the run', () => {
    expect(() => checkFitsWasmHeap(presetConfig('small'))).not.toThrow();
    expect(() =>
      checkFitsWasmHeap(applyOverrides(presetConfig('paper'), { cropSize: '128', loadSize: '143' })),
    ).not.toThrow();
  });
});
