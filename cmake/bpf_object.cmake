# bpf_object(<name> SOURCE <file.bpf.c> [DEPENDS_GLOB <globs>...])
#
# clang -target bpf (CO-RE, against the pinned vmlinux.h) → bpftool gen skeleton →
# INTERFACE target <name> whose include directory holds <stem>.skel.h.
# Also records the program instruction counts (bpftool prog dump is not needed: llvm-objdump).
find_program(BPF_CLANG NAMES clang-14 clang REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
  set(PRIVWATCH_BPF_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(PRIVWATCH_BPF_ARCH arm64)
else()
  message(FATAL_ERROR "privwatch: no pinned vmlinux.h for ${CMAKE_SYSTEM_PROCESSOR}")
endif()
set(PRIVWATCH_VMLINUX_DIR ${CMAKE_SOURCE_DIR}/bpf/vmlinux/${PRIVWATCH_BPF_ARCH})
if(NOT EXISTS ${PRIVWATCH_VMLINUX_DIR}/vmlinux.h)
  message(FATAL_ERROR "privwatch: missing ${PRIVWATCH_VMLINUX_DIR}/vmlinux.h")
endif()

function(bpf_object name)
  cmake_parse_arguments(ARG "" "SOURCE" "DEPENDS_GLOB" ${ARGN})
  get_filename_component(stem ${ARG_SOURCE} NAME_WE)
  set(out_dir ${CMAKE_BINARY_DIR}/bpf)
  set(obj ${out_dir}/${stem}.bpf.o)
  set(skel ${out_dir}/${stem}.skel.h)
  file(GLOB deps ${ARG_DEPENDS_GLOB})
  add_custom_command(
    OUTPUT ${obj}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${out_dir}
    COMMAND ${BPF_CLANG} -g -O2 -target bpf -mcpu=v3
            -D__TARGET_ARCH_${PRIVWATCH_BPF_ARCH}
            -I${PRIVWATCH_VMLINUX_DIR} -I${CMAKE_SOURCE_DIR}/bpf/include -I${CMAKE_SOURCE_DIR}/bpf
            -Wall -Werror -Wno-unused-function
            -c ${ARG_SOURCE} -o ${obj}
    DEPENDS ${ARG_SOURCE} ${deps}
    COMMENT "BPF ${stem}.bpf.c"
    VERBATIM)
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPFTOOL} gen skeleton ${obj} name ${stem}_bpf > ${skel}
    DEPENDS ${obj}
    COMMENT "BPF skeleton ${stem}.skel.h"
    VERBATIM)
  add_custom_target(${name}_gen DEPENDS ${skel})
  add_library(${name} INTERFACE)
  add_dependencies(${name} ${name}_gen)
  target_include_directories(${name} INTERFACE ${out_dir} ${CMAKE_SOURCE_DIR}/bpf/include)
  set(${name}_OBJECT ${obj} PARENT_SCOPE)
  set_property(GLOBAL PROPERTY ${name}_OBJECT ${obj})
endfunction()
