/* _elastos_core_ext: the merkle root's binding through the CPython C API.
 *
 * Everything else reaches the C core through cffi in ABI mode (reference/core.py), which costs about a
 * microsecond a call: small beside a signature check. The merkle root is the exception. Its C work for
 * a block of 1,000 transactions is about 40 microseconds, and through cffi the Python side had to check
 * every hash's length and join them first, which took 25 more. Here the list is walked in C: each item
 * must be a bytes object of 32 bytes, copied straight into the level the C core hashes in place.
 *
 * The module does not link the C core. reference/core.py hands it the address of
 * ec_merkle_root_in_place from the library cffi loaded (bind), so there is one copy of the library and
 * of its state (the selected SHA-256 code) in the process, whichever file ELASTOS_CORE_LIB names.
 *
 * merkle_root(hashes) answers the root, or None for anything but a non-empty list or tuple of 32-byte
 * bytes objects and for any non-zero code of the C core. On None the caller takes the cffi path, which
 * raises the spec's reason (WRONG_LENGTH, MERKLE_EMPTY) in the one place those are decided. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>
#include <string.h>

typedef int (*merkle_fn)(uint8_t *level, size_t n, uint8_t *out32);

static merkle_fn merkle_root_in_place;

static PyObject *bind(PyObject *self, PyObject *address) {
    (void)self;
    unsigned long long a = PyLong_AsUnsignedLongLong(address);
    if (a == (unsigned long long)-1 && PyErr_Occurred()) return NULL;
    if (a == 0) {
        PyErr_SetString(PyExc_ValueError, "a null function address");
        return NULL;
    }
    merkle_root_in_place = (merkle_fn)(uintptr_t)a;
    Py_RETURN_NONE;
}

static PyObject *merkle_root(PyObject *self, PyObject *hashes) {
    (void)self;
    merkle_fn fn = merkle_root_in_place; /* read under the GIL: bind may run once it is released */
    if (fn == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_elastos_core_ext.bind was not called");
        return NULL;
    }
    if (!PyList_CheckExact(hashes) && !PyTuple_CheckExact(hashes)) Py_RETURN_NONE;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(hashes);
    if (n == 0 || (size_t)n >= SIZE_MAX / 32 - 1) Py_RETURN_NONE;
    uint8_t *level = PyMem_RawMalloc(32 * ((size_t)n + 1)); /* room for an odd level's repeated last hash */
    if (level == NULL) return PyErr_NoMemory();
    PyObject **items = PySequence_Fast_ITEMS(hashes);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *h = items[i];
        if (!PyBytes_Check(h) || PyBytes_GET_SIZE(h) != 32) {
            PyMem_RawFree(level);
            Py_RETURN_NONE;
        }
        memcpy(level + 32 * i, PyBytes_AS_STRING(h), 32);
    }
    uint8_t root[32];
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = fn(level, (size_t)n, root); /* the GIL released: the level is our own copy */
    Py_END_ALLOW_THREADS
    PyMem_RawFree(level);
    if (rc != 0) Py_RETURN_NONE;
    return PyBytes_FromStringAndSize((const char *)root, 32);
}

static PyMethodDef methods[] = {
    {"bind", bind, METH_O, "bind(address): the address of the C core's ec_merkle_root_in_place"},
    {"merkle_root", merkle_root, METH_O,
     "merkle_root(hashes): the merkle root of a list or tuple of 32-byte bytes, or None (take the cffi path)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_elastos_core_ext", NULL, -1, methods,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__elastos_core_ext(void) { return PyModule_Create(&module); }
