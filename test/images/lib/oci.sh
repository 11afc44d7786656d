# shellcheck shell=bash disable=SC2034 # globals are read by build.sh and recipes
# Writes an OCI image layout (image-spec v1.1) with nothing but tar, gzip,
# sha256sum and jq, so the digests depend only on the rootfs contents.

readonly MT_LAYER=application/vnd.oci.image.layer.v1.tar+gzip
readonly MT_CONFIG=application/vnd.oci.image.config.v1+json
readonly MT_MANIFEST=application/vnd.oci.image.manifest.v1+json
readonly MT_INDEX=application/vnd.oci.image.index.v1+json

oci_init() {
  local layout=$1
  LAYER_DESCS=() DIFF_IDS=()
  mkdir -p "$layout/blobs/sha256"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
}

# Moves FILE into the layout's blob store and prints a descriptor for it.
oci_blob() {
  local layout=$1 file=$2 media_type=$3
  local hex size
  hex=$(sha256sum "$file" | cut -d' ' -f1)
  size=$(stat -c %s "$file")
  mv "$file" "$layout/blobs/sha256/$hex"
  jq -cn --arg mt "$media_type" --arg d "sha256:$hex" --argjson s "$size" \
    '{mediaType: $mt, digest: $d, size: $s}'
}

# Tars ROOTFS as the next layer of the image being written. Names are
# sorted and owners numeric so the tar does not depend on directory order
# or on the build host's passwd file. Top-level entries are listed
# explicitly so members carry no "./" prefix.
oci_layer() {
  local layout=$1 rootfs=$2
  local tmp=$layout/.layer.tar
  local -a top
  mapfile -t top < <(cd "$rootfs" && LC_ALL=C ls -A)
  ((${#top[@]} > 0)) || die "layer $rootfs is empty"
  tar -C "$rootfs" --create --file="$tmp" \
    --sort=name --numeric-owner --format=posix \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
    --mtime=@"$CLAMP_EPOCH" --clamp-mtime \
    -- "${top[@]}"
  DIFF_IDS+=("sha256:$(sha256sum "$tmp" | cut -d' ' -f1)")
  gzip -n -6 "$tmp"
  LAYER_DESCS+=("$(oci_blob "$layout" "$tmp.gz" "$MT_LAYER")")
}

# Writes config and manifest for an image made of the layers added since
# the last call and sets MANIFEST_DESC to the manifest's descriptor with its
# platform. It must not run in a subshell, or the layer list never resets.
oci_image() {
  local layout=$1 arch=$2 container_config=$3
  local layers diff_ids history config desc
  layers=$(printf '%s\n' "${LAYER_DESCS[@]}" | jq -cs .)
  diff_ids=$(printf '%s\n' "${DIFF_IDS[@]}" | jq -R . | jq -cs .)
  history=$(jq -cn --argjson n "${#DIFF_IDS[@]}" --arg c "$CREATED" \
    '[range($n) | {created: $c, created_by: "test/images/build.sh"}]')

  jq -cn --arg arch "$arch" --arg c "$CREATED" \
    --argjson cfg "$container_config" --argjson ids "$diff_ids" \
    --argjson h "$history" \
    '{created: $c, architecture: $arch, os: "linux", config: $cfg,
      rootfs: {type: "layers", diff_ids: $ids}, history: $h}' \
    >"$layout/.config.json"
  config=$(oci_blob "$layout" "$layout/.config.json" "$MT_CONFIG")

  jq -cn --arg mt "$MT_MANIFEST" --argjson c "$config" --argjson l "$layers" \
    '{schemaVersion: 2, mediaType: $mt, config: $c, layers: $l}' \
    >"$layout/.manifest.json"
  desc=$(oci_blob "$layout" "$layout/.manifest.json" "$MT_MANIFEST")
  LAYER_DESCS=() DIFF_IDS=()
  MANIFEST_DESC=$(jq -c --arg arch "$arch" \
    '. + {platform: {architecture: $arch, os: "linux"}}' <<<"$desc")
}

# Stores the given manifest descriptors as an image index blob and prints
# its descriptor; used for multi-platform images.
oci_index_blob() {
  local layout=$1
  shift
  printf '%s\n' "$@" |
    jq -cs --arg mt "$MT_INDEX" '{schemaVersion: 2, mediaType: $mt, manifests: .}' \
      >"$layout/.index.json"
  oci_blob "$layout" "$layout/.index.json" "$MT_INDEX"
}

# Writes index.json naming DESCRIPTOR "latest", so both `oci:DIR` and
# `oci:DIR:latest` resolve to it.
oci_tag() {
  local layout=$1 desc=$2
  jq -cn --arg mt "$MT_INDEX" --argjson d "$desc" \
    '{schemaVersion: 2, mediaType: $mt,
      manifests: [$d + {annotations:
        {"org.opencontainers.image.ref.name": "latest"}}]}' \
    >"$layout/index.json"
}
