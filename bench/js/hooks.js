// Runs before any script of the page (a Playwright init script, which, unlike request
// interception, leaves the HTTP cache alone). It remembers the WebAssembly memories the page
// instantiates, so the benchmark can read how much linear memory Pyodide holds after the first
// render (the calls themselves go through unchanged, streaming compilation included), and when
// each element marked `elementtiming` was first painted (the caller's number: "caller").
(() => {
  const painted = {};
  Object.defineProperty(window, "__benchElementTimes", { value: painted });
  try {
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (!(entry.identifier in painted)) painted[entry.identifier] = entry.renderTime || entry.loadTime;
      }
    }).observe({ type: "element", buffered: true });
  } catch (error) {
    // no Element Timing in this browser: "caller visible" is then not measured
  }

  const memories = [];
  Object.defineProperty(window, "__benchWasmMemories", { value: memories });
  const remember = (result) => {
    const instance = result instanceof WebAssembly.Instance ? result : result && result.instance;
    if (instance) {
      for (const value of Object.values(instance.exports)) {
        if (value instanceof WebAssembly.Memory) memories.push(value);
      }
    }
    return result;
  };
  for (const name of ["instantiate", "instantiateStreaming"]) {
    const original = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      return original.apply(this, args).then(remember);
    };
  }
})();
