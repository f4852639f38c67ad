// The 👍/👎 of an archive paper page reached from a subscriber's email.
//
// The email's "Abstract" link ends in #v=<the reader's vote token>. A fragment is
// never sent to a server, so the page stays one static file for every reader (and
// works from disk); this script turns it into the two vote links of the vote page,
// which asks before it records anything (a GET changes nothing). Without a token,
// or with anything that is not one, the paragraph stays hidden.
//
// Once read, the token is dropped from the address bar (history.replaceState, which
// neither reloads nor adds a history entry): an address copied, bookmarked or shared
// from here must not let someone else vote as this reader. The token is kept in this
// page's memory only, so the two links keep working, and an in-page link (#top)
// changes nothing; a reload shows no votes (the email's link brings them back).
(function () {
  "use strict";
  var TOKEN = /^#v=([A-Za-z0-9_-]{1,40}\.[0-9]{9,12}\.[0-9a-z]{1,8}\.[A-Za-z0-9_-]{16,40})$/;
  var token = "";
  function forget() {
    try {
      var address = window.location.href.split("#")[0];
      window.history.replaceState(window.history.state, "", address);
    } catch (e) {
      // a browser that refuses (an old one, a page from disk): the votes still work
    }
  }
  function show() {
    var box = document.getElementById("nl-vote");
    if (!box) return;
    var found = TOKEN.exec(window.location.hash);
    if (found) {
      token = found[1];
      forget();
    }
    var base = box.getAttribute("data-base") || "";
    var ref = box.getAttribute("data-ref") || "";
    if (!token || !/^https?:\/\//.test(base) || !/^[A-Za-z0-9_-]{8}$/.test(ref)) {
      box.hidden = true;
      return;
    }
    var links = box.querySelectorAll("a[data-direction]");
    for (var i = 0; i < links.length; i++) {
      var direction = links[i].getAttribute("data-direction");
      links[i].href = base + "/" + token + "/" + ref + "/" + direction;
    }
    box.hidden = false;
  }
  show();
  window.addEventListener("hashchange", show);
})();
