# CONTEXT {'gpu_vendor': 'NVIDIA', 'guest_os': 'UBUNTU'}
ARG BASE_DOCKER=madengine-zoo-base:latest
FROM $BASE_DOCKER

# Build argument passed by the engine from the context (docker_build_arg); may be empty.
ARG MAD_SYSTEM_GPU_ARCHITECTURE=

# The base image is FROM scratch + static busybox, so RUN only has busybox applets.
RUN mkdir -p /etc \
    && echo "madengine-zoo dummy" > /etc/madengine-zoo-release \
    && echo "${MAD_SYSTEM_GPU_ARCHITECTURE}" > /etc/madengine-zoo-gpu-arch
