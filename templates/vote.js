// The 👍/👎 of an archive paper page reached from a subscriber's email.
//
// The email's "Abstract" link ends in #v=<the reader's vote token>. A fragment is
// never sent to a server, so the page stays one static file for every reader (and
// works from disk); this script turns it into the two vote links of the vote page,
// which asks before it records anything (a GET changes nothing). Without a token,
// or with anything that is not one, the paragraph stays hidden.
(function () {
  "use strict";
  var TOKEN = /^#v=([A-Za-z0-9_-]{1,40}\.[0-9]{9,12}\.[0-9a-z]{1,8}\.[A-Za-z0-9_-]{16,40})$/;
  function show() {
    var box = document.getElementById("nl-vote");
    if (!box) return;
    var found = TOKEN.exec(window.location.hash);
    var base = box.getAttribute("data-base") || "";
    var ref = box.getAttribute("data-ref") || "";
    if (!found || !/^https?:\/\//.test(base) || !/^[A-Za-z0-9_-]{8}$/.test(ref)) {
      box.hidden = true;
      return;
    }
    var links = box.querySelectorAll("a[data-direction]");
    for (var i = 0; i < links.length; i++) {
      var direction = links[i].getAttribute("data-direction");
      links[i].href = base + "/" + found[1] + "/" + ref + "/" + direction;
    }
    box.hidden = false;
  }
  show();
  window.addEventListener("hashchange", show);
})();
