// Model and tool output as HTML that can never run anything: marked turns Markdown
// into HTML with every raw HTML fragment escaped (shown as text), then DOMPurify
// keeps only inert elements; links must be http(s) and open in a new tab without
// an opener; images, forms, frames, SVG and styles are dropped. The page's CSP
// (no inline script, script from this origin only) is a second wall behind this one.

const ALLOWED_TAGS = ['a', 'p', 'br', 'hr', 'em', 'strong', 'del', 's', 'code', 'pre', 'blockquote', 'ul', 'ol', 'li',
  'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'span', 'input', 'sup', 'sub'];
const ALLOWED_ATTR = ['href', 'title', 'class', 'type', 'checked', 'disabled', 'align', 'start'];
const SAFE_URL = /^https?:\/\//i;

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

let configured = false;
function configure() {
  if (configured) return;
  configured = true;
  window.marked.use({
    gfm: true,
    breaks: false,
    renderer: {
      html(token) { return escapeHtml(token.text ?? token.raw ?? ''); },  // raw HTML is text, never markup
      image(token) { return escapeHtml(token.text || token.title || ''); },  // no images from a reply
    },
  });
  window.DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A') {
      const href = node.getAttribute('href') || '';
      if (!SAFE_URL.test(href)) {
        node.removeAttribute('href');
      } else {
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer nofollow');
      }
    }
    if (node.tagName === 'INPUT' && node.getAttribute('type') !== 'checkbox') node.remove();
    if (node.tagName === 'INPUT') node.setAttribute('disabled', '');
  });
}

export function sanitize(html) {
  configure();
  return window.DOMPurify.sanitize(html, {
    ALLOWED_TAGS, ALLOWED_ATTR, ALLOWED_URI_REGEXP: SAFE_URL, ALLOW_DATA_ATTR: false, RETURN_DOM_FRAGMENT: true,
  });
}

export function renderMarkdown(target, text) {
  configure();
  const fragment = sanitize(window.marked.parse(text));
  target.replaceChildren(fragment);
}

export function highlightWithin(root) {
  if (!window.hljs) return;
  for (const block of root.querySelectorAll('pre code')) {
    if (block.dataset.highlighted) continue;
    window.hljs.highlightElement(block);
  }
}
