/* The compiled reader behind vectorize_nb.packing: sequences of Python numbers into float32 rows.
   Same rows and same problems as packing.pack_rows_struct, in well under half the time.

   Rows that are lists of exact floats (the usual case) take a fast path that only reads memory:
   it runs no Python code and touches no reference counts. The caller holds the GIL throughout, so
   nothing can change or free those objects meanwhile, and the fast path may run on two threads at
   once (reading tens of millions of floats is bound by memory, and two cores read faster than one).
   Every other row takes the general path afterwards, on the calling thread alone: any sequence of
   any numbers, which may run Python code (__float__, __index__). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "pythread.h"
#include <string.h>

typedef struct {
    PyObject *const *rows;
    Py_ssize_t start, stop, width;
    float *out;
    Py_ssize_t done;  /* the fast path packed rows [start, done) */
    PyThread_type_lock finished;
} Span;

/* Packs rows from `start` until one is not a list of `width` exact floats; returns that row. */
static Py_ssize_t
fast_rows(PyObject *const *rows, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t width, float *out)
{
    Py_ssize_t r = start;
    for (; r < stop; r++) {
        PyObject *cell = rows[r];
        if (!PyList_CheckExact(cell) || PyList_GET_SIZE(cell) != width)
            return r;
        PyObject *const *items = PySequence_Fast_ITEMS(cell);
        float *row = out + r * width;
        Py_ssize_t c = 0;
        for (; c < width && PyFloat_CheckExact(items[c]); c++)
            row[c] = (float)PyFloat_AS_DOUBLE(items[c]);  /* beyond float32 becomes inf, as in struct */
        if (c < width)
            return r;
    }
    return r;
}

static void
fast_span(void *arg)
{
    Span *span = arg;
    span->done = fast_rows(span->rows, span->start, span->stop, span->width, span->out);
    if (span->finished != NULL)
        PyThread_release_lock(span->finished);
}

/* One row by the general path: NULL when packed, else what is wrong with it. */
static const char *
general_row(PyObject *cell, Py_ssize_t width, float *row)
{
    PyObject *items = PySequence_Fast(cell, "not a sequence");
    if (items == NULL)
        return "number";
    const char *problem = NULL;
    for (Py_ssize_t c = 0; c < width && problem == NULL; c++) {
        if (PySequence_Fast_GET_SIZE(items) != width) {  /* a number's __float__ may change its row */
            problem = "width";
            break;
        }
        PyObject *item = PySequence_Fast_ITEMS(items)[c];
        Py_INCREF(item);
        double x = PyFloat_AsDouble(item);
        Py_DECREF(item);
        if (x == -1.0 && PyErr_Occurred())
            problem = "number";
        else
            row[c] = (float)x;
    }
    if (problem == NULL && PySequence_Fast_GET_SIZE(items) != width)
        problem = "width";
    Py_DECREF(items);
    return problem;
}

/* The rows of a span the fast path left: general path for one row, then the fast path again. */
static PyObject *
finish_span(const Span *span)
{
    Py_ssize_t r = span->done;
    while (r < span->stop) {
        const char *problem = general_row(span->rows[r], span->width, span->out + r * span->width);
        if (problem != NULL) {
            PyErr_Clear();
            return Py_BuildValue("(ns)", r, problem);
        }
        r = fast_rows(span->rows, r + 1, span->stop, span->width, span->out);
    }
    return NULL;
}

static PyObject *
pack_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *cells, *rows, *result = NULL;
    Py_buffer out;
    Py_ssize_t width, threads = 1;
    if (!PyArg_ParseTuple(args, "Ow*n|n", &cells, &out, &width, &threads))
        return NULL;
    rows = PySequence_List(cells);  /* our own list of the cells: no Python code can change it */
    if (rows == NULL)
        goto done;
    Py_ssize_t count = PyList_GET_SIZE(rows);
    if (width < 0 || out.len / (Py_ssize_t)sizeof(float) < count * width) {
        PyErr_SetString(PyExc_ValueError, "out holds fewer than len(cells) * width float32 numbers");
        goto done;
    }
    PyObject *const *cell = PySequence_Fast_ITEMS(rows);
    Span spans[2] = {{cell, 0, count, width, (float *)out.buf, 0, NULL},
                     {cell, count, count, width, (float *)out.buf, count, NULL}};
    if (threads > 1 && count > 1) {
        /* Fresh memory is faulted in by this thread alone first: two threads taking the first page
           faults of one new mapping at once were slower here than one thread doing everything. */
        memset(out.buf, 0, (size_t)(count * width) * sizeof(float));
        spans[0].stop = spans[1].start = count / 2;
        spans[1].finished = PyThread_allocate_lock();
        if (spans[1].finished != NULL) {
            PyThread_acquire_lock(spans[1].finished, WAIT_LOCK);
            if (PyThread_start_new_thread(fast_span, &spans[1]) == PYTHREAD_INVALID_THREAD_ID) {
                PyThread_free_lock(spans[1].finished);
                spans[1].finished = NULL;
            }
        }
        if (spans[1].finished == NULL)  /* no second thread: this one does both halves */
            fast_span(&spans[1]);
    }
    fast_span(&spans[0]);
    if (spans[1].finished != NULL) {
        PyThread_acquire_lock(spans[1].finished, WAIT_LOCK);
        PyThread_free_lock(spans[1].finished);
    }
    for (int s = 0; s < 2 && result == NULL; s++)
        result = finish_span(&spans[s]);
    if (result == NULL)
        result = Py_NewRef(Py_None);
done:
    Py_XDECREF(rows);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"pack_rows", pack_rows, METH_VARARGS,
     "pack_rows(cells, out, width, threads=1)\n--\n\n"
     "Write each cell's numbers into the writable buffer `out` as float32 rows of `width` numbers,\n"
     "reading rows that are lists of floats on `threads` threads (1 or 2).\n"
     "None when every row is packed, else (row, problem) for the first row that is not: problem is\n"
     "'number' (an item is not a number) or 'width' (a row of another length)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_packing", "The compiled reader behind vectorize_nb.packing.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__packing(void)
{
    return PyModule_Create(&module);
}
