// Click a notebook figure to open it at full size (book/conventions.md).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".cell_output img, figure img").forEach((img) => {
    if (img.closest("a")) return;
    const link = document.createElement("a");
    link.href = img.src;
    link.title = "open the figure at full size";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});
