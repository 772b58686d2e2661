/* The compiled reader behind vectorize_nb.packing: sequences of Python numbers into float32 rows.
   It gives the same results and reports the same problems as packing.pack_rows_struct, in about
   half the time (reading tens of millions of Python floats is bound by memory, not by the parser). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *
problem(PyObject *cell, Py_ssize_t row, const char *what)
{
    Py_XDECREF(cell);
    PyErr_Clear();
    return Py_BuildValue("(ns)", row, what);
}

static PyObject *
pack_rows(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *cells, *rows, *result = NULL;
    Py_buffer out;
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "Ow*n", &cells, &out, &width))
        return NULL;
    rows = PySequence_Fast(cells, "cells must be a sequence");
    if (rows == NULL)
        goto done;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(rows);
    if (width < 0 || out.len / (Py_ssize_t)sizeof(float) < count * width) {
        PyErr_SetString(PyExc_ValueError, "out holds fewer than len(cells) * width float32 numbers");
        goto done;
    }
    float *dest = (float *)out.buf;
    for (Py_ssize_t r = 0; r < count; r++) {
        PyObject *cell = PySequence_Fast(PySequence_Fast_GET_ITEM(rows, r), "not a sequence");
        if (cell == NULL) {
            result = problem(NULL, r, "number");
            goto done;
        }
        for (Py_ssize_t c = 0; c < width; c++) {
            /* checked for every item: a number's __float__ could shorten the list under us */
            if (PySequence_Fast_GET_SIZE(cell) != width) {
                result = problem(cell, r, "width");
                goto done;
            }
            PyObject *item = PySequence_Fast_ITEMS(cell)[c];
            double x;
            if (PyFloat_CheckExact(item)) {
                x = PyFloat_AS_DOUBLE(item);
            } else {  /* may run Python code (__float__, __index__): hold the item meanwhile */
                Py_INCREF(item);
                x = PyFloat_AsDouble(item);
                Py_DECREF(item);
            }
            if (x == -1.0 && PyErr_Occurred()) {
                result = problem(cell, r, "number");
                goto done;
            }
            *dest++ = (float)x;  /* beyond float32's range becomes an infinity, as in struct */
        }
        if (PySequence_Fast_GET_SIZE(cell) != width) {
            result = problem(cell, r, "width");
            goto done;
        }
        Py_DECREF(cell);
    }
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(rows);
    PyBuffer_Release(&out);
    return result;
}

static PyMethodDef methods[] = {
    {"pack_rows", pack_rows, METH_VARARGS,
     "pack_rows(cells, out, width)\n--\n\n"
     "Write each cell's numbers into the writable buffer `out` as float32 rows of `width` numbers.\n"
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
