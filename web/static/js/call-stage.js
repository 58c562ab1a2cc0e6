// The call's video tiles: one per remote participant, labelled with their name and role, and
// the person's own picture. With one other person their picture fills the stage and one's
// own sits in a corner; with more, the tiles make a grid (two columns on a phone, three on a
// wide screen from five tiles).
export class Stage {
  // describe(id) -> {label, videoLabel}: how to name a participant (their name and role).
  constructor(root, describe) {
    this.videos = root.querySelector("[data-videos]");
    this.local = this.videos.querySelector("[data-local-tile]");
    this.describe = describe;
    this.tiles = new Map();
    this.layout();
  }

  tile(id) {
    let tile = this.tiles.get(id);
    if (tile) return tile;
    tile = document.createElement("figure");
    tile.className = "tile remote-tile";
    tile.dataset.peer = id;
    tile.dataset.state = "new";
    const video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    const caption = document.createElement("figcaption");
    caption.className = "tile-label";
    tile.append(video, caption);
    this.videos.insertBefore(tile, this.local);
    this.tiles.set(id, tile);
    this.name(id);
    this.layout();
    return tile;
  }

  // (Re)write every label: names may arrive after the tile (a colleague invited meanwhile).
  names() {
    for (const id of this.tiles.keys()) this.name(id);
  }

  name(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    const { label, videoLabel } = this.describe(id);
    tile.querySelector("figcaption").textContent = label;
    tile.querySelector("video").setAttribute("aria-label", videoLabel);
  }

  show(id, stream) {
    const video = this.tile(id).querySelector("video");
    if (video.srcObject !== stream) video.srcObject = stream;
  }

  state(id, state) {
    const tile = this.tiles.get(id);
    if (tile) tile.dataset.state = state;
  }

  remove(id) {
    const tile = this.tiles.get(id);
    if (!tile) return;
    tile.querySelector("video").srcObject = null;
    tile.remove();
    this.tiles.delete(id);
    this.layout();
  }

  layout() {
    const remote = this.tiles.size;
    this.videos.dataset.layout = remote >= 2 ? "grid" : "single";
    this.videos.dataset.columns = remote + 1 >= 5 ? "3" : "2";
  }
}
