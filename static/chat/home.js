// The home page's composer: Enter starts the conversation (as in the chat), Shift+Enter adds a line.

const form = document.getElementById('home-composer');
const input = document.getElementById('home-input');

input?.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    if (input.value.trim()) form.requestSubmit();
  }
});
