// Reads the live DOM of a tab with chrome.scripting (activeTab or host permission).
// Only reads: nothing is sent from page context, all companion calls stay in the extension.

function readPage() {
  return { url: location.href, title: document.title, html: document.documentElement.outerHTML };
}

function readSelection() {
  const sel = getSelection();
  const box = document.createElement('div');
  for (let i = 0; sel && i < sel.rangeCount; i++) box.appendChild(sel.getRangeAt(i).cloneContents());
  return { text: sel ? sel.toString() : '', html: box.innerHTML, url: location.href, title: document.title };
}

async function run(tabId, func, frameId = 0) {
  const [first] = await chrome.scripting.executeScript({ target: { tabId, frameIds: [frameId] }, func });
  if (!first || first.result == null) throw new Error('the page could not be read');
  return first.result;
}

/** {url, title, html} of the tab's top document. Throws on pages scripts cannot reach. */
export const capturePage = (tabId) => run(tabId, readPage);

/** {text, html, url, title} of the selection in the given frame. */
export const captureSelection = (tabId, frameId = 0) => run(tabId, readSelection, frameId);

export const isCapturableUrl = (url) => /^https?:\/\//i.test(url || '');
