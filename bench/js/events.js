// Event-to-DOM latency: fire CallStateChanged through the fake host and time how long until the
// card's call-state text changes. The start is taken just before window.bx24Host.setState()
// (the host's own delivery, a macrotask like postMessage, is part of what the operator waits
// for); the end is the MutationObserver callback that first sees the new text, which runs before
// the browser can paint that change. Events are spaced by a few ms, jittered, never queued.
async ({ count, states, timeoutMs }) => {
  const card = document.getElementById("card");
  const stateText = () => {
    const node = card.querySelector('[data-testid="call-state"]');
    return node ? node.textContent : null;
  };
  let waiting = null;
  const observer = new MutationObserver(() => {
    if (waiting && stateText() !== waiting.before) {
      const { started, resolve } = waiting;
      waiting = null;
      resolve(performance.now() - started);
    }
  });
  observer.observe(card, { childList: true, characterData: true, subtree: true });
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const latencies = [];
  try {
    for (let i = 0; i < count; i++) {
      const changed = new Promise((resolve) => {
        waiting = { before: stateText(), started: performance.now(), resolve };
      });
      window.bx24Host.setState(states[i % states.length]);
      const latency = await Promise.race([changed, sleep(timeoutMs).then(() => null)]);
      waiting = null;
      latencies.push(latency); // null: the text never changed (a lost event)
      await sleep(8 + (i % 5) * 3);
    }
  } finally {
    observer.disconnect();
  }
  return latencies;
}
