/* The search page's one script (the archive's CSP allows only its own files):
   Pagefind's UI with its filters, the query from ?q= (the header's search box),
   and a note when the page is opened from disk, where the index cannot load. */
window.addEventListener("DOMContentLoaded", function () {
  if (location.protocol === "file:") {
    document.getElementById("offline").hidden = false;
  }
  var ui = new PagefindUI({ element: "#search", showSubResults: false, showImages: false });
  var q = new URLSearchParams(location.search).get("q");
  if (q) {
    ui.triggerSearch(q);
  }
});
