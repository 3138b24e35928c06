// The sidebar's toggle on narrow screens: the conversation list folds away so the chat gets the screen.
// (Wide screens never show the toggle; CSS keeps the list open there.)

const sidebar = document.getElementById('sidebar');
const toggle = document.getElementById('sidebar-toggle');

function setOpen(open) {
  sidebar.dataset.open = String(open);
  toggle.setAttribute('aria-expanded', String(open));
}

if (sidebar && toggle) {
  setOpen(false);
  toggle.addEventListener('click', () => setOpen(sidebar.dataset.open !== 'true'));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && sidebar.dataset.open === 'true') {
      event.preventDefault(); // handled: Esc must not also stop the answers
      setOpen(false);
      toggle.focus();
    }
  });
}
