// The subscriber pages' one script: "Select all" / "Select none" tick the topic boxes at once.
// Without it the two buttons submit the form and the page comes back with the boxes set.
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("button[data-select]") : null;
  if (!button) return;
  event.preventDefault();
  var on = button.getAttribute("data-select") === "all";
  var boxes = button.form.querySelectorAll("input[type=checkbox][name=topics]");
  for (var i = 0; i < boxes.length; i++) boxes[i].checked = on;
});
