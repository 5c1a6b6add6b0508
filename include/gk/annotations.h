/* The gk annotations: names in config.json's "annotations" that gkimg
 * writes and gkrun (and gkrun-net) read.  bundle-spec/annotations.md says
 * what each one means; here they are spelled once. */
#ifndef GK_ANNOTATIONS_H
#define GK_ANNOTATIONS_H

/* The rootfs as an overlay of image layers (include/gk/overlay.h). */
#define GK_ANN_ROOTFS_OVERLAY "org.gk.rootfs.overlay"
/* The id of the image a bundle was made from. */
#define GK_ANN_IMAGE_ID "org.gk.image.id"

/* Networking (bundle-spec/networking.md), done by gkrun-net. */
#define GK_ANN_NET_PREFIX "org.gk.net."
#define GK_ANN_NET_MODE GK_ANN_NET_PREFIX "mode"
#define GK_ANN_NET_PORTS GK_ANN_NET_PREFIX "ports"
#define GK_ANN_NET_BRIDGE GK_ANN_NET_PREFIX "bridge"
#define GK_ANN_NET_SUBNET GK_ANN_NET_PREFIX "subnet"
#define GK_ANN_NET_DNS GK_ANN_NET_PREFIX "dns"

#endif
