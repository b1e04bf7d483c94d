// The ops console's only script: ticking every inbox row for a bulk action. The console works without it.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (!all) return;
  for (const box of document.querySelectorAll(`input[name="item_ids"][form="${all.dataset.selectAll}"]`)) {
    box.checked = all.checked;
  }
});
