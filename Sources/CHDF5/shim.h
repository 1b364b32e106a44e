#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
/* Found via pkg-config hdf5-serial: -I/usr/include/hdf5/serial */
#include <hdf5.h>

/* HDF5 "constants" are macros over globals that Swift cannot import: wrap them. */
static inline hid_t chdf5_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_native_uint16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t chdf5_native_uint32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t chdf5_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_c_s1(void) { return H5T_C_S1; }
static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_group_create(void) { return H5P_GROUP_CREATE; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline size_t chdf5_variable(void) { return H5T_VARIABLE; }

/* File access list whose close also closes every object still open in the file, so that the close
   really writes the file and reports a failure (disk full) instead of deferring it to exit. */
static inline hid_t chdf5_fapl_strong_close(void) {
    hid_t p = H5Pcreate(H5P_FILE_ACCESS);
    if (p >= 0) H5Pset_fclose_degree(p, H5F_CLOSE_STRONG);
    return p;
}

/* Turn off HDF5's automatic error stack printing (readers report their own errors) and its clean-up
   at exit: LaueMap closes every file it writes itself, and a file whose close failed on a full disk
   makes HDF5 1.10's exit handler dereference freed memory (H5F__close_cb). H5dont_atexit only
   works before the library's first use, so this is called before any other HDF5 function. */
static inline void chdf5_silence(void) { H5dont_atexit(); H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
#endif
