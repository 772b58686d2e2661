/* The compiled kernels behind vectorize_nb.local.search: the loops of an exact search that numpy
   can only do in several passes over memory. Each runs without the GIL, so the search's own threads
   run them side by side, and none calls BLAS, whose idle threads spin on the cores after a call.

   gather_dots   x·q for the listed rows of a matrix, read where they lie (numpy's take copies
                 them first);
   range_dots    x·q for every row of a block of rows;
   both prefetch the rows ahead of the one they multiply;
   keep_best     folds a block of similarities (rows x queries) into a top-k per query, a min-heap
                 each, in one compare per similarity (numpy needs a compare, a nonzero, a gather and
                 a sort of the hits).

   Arguments are buffers (numpy arrays, C-contiguous) of float32 ('f') and int64 ('q' or 'l'). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Portable to MSVC, which has no __builtin_prefetch and spells C99's restrict __restrict outside
   its /std:c11 mode: an extension that fails to build is skipped at install, silently, and every
   search then takes numpy's slower path. */
#if defined(_MSC_VER) && !defined(__clang__)
#define RESTRICT __restrict
#else
#define RESTRICT restrict
#endif

/* locality 3: into every cache level; 1: not the first (prefetcht0 and prefetcht2 on x86) */
#if defined(__GNUC__) || defined(__clang__)
#define PREFETCH(address, locality) __builtin_prefetch((address), 0, (locality))
#elif defined(_MSC_VER) && (defined(_M_X64) || defined(_M_IX86))
#include <xmmintrin.h>
#define PREFETCH(address, locality) _mm_prefetch((address), ((locality) == 3 ? _MM_HINT_T0 : _MM_HINT_T2))
#else
#define PREFETCH(address, locality) ((void)(address))
#endif

#define LANES 16  /* independent sums: the compiler keeps them in vector registers */
#define AHEAD 4   /* rows prefetched ahead of the one multiplied */

static float
dot(const float *RESTRICT row, const float *RESTRICT query, Py_ssize_t width)
{
    float sums[LANES] = {0};
    Py_ssize_t c = 0;
    for (; c + LANES <= width; c += LANES)
        for (int lane = 0; lane < LANES; lane++)
            sums[lane] += row[c + lane] * query[c + lane];
    float total = 0;
    for (; c < width; c++)
        total += row[c] * query[c];
    for (int lane = 0; lane < LANES; lane++)
        total += sums[lane];
    return total;
}

/* Asks for a row's cache lines before they are read. A scan of 1M x 384 on a 16-core machine took
   0.67-0.74x the time without it on 16, 8 and 4 threads (2 to 8 rows ahead did alike, 16 worse);
   on 2 cores it made no measurable difference. */
#define PREFETCH_ROW(row, width, locality)                                          \
    for (Py_ssize_t byte = 0; byte < (width) * (Py_ssize_t)sizeof(float); byte += 64) \
        PREFETCH((const char *)(row) + byte, (locality))

static inline void
prefetch(const float *row, Py_ssize_t width)
{
    PREFETCH_ROW(row, width, 3);
}

/* Rows read where they lie are asked for GATHER_AHEAD rows ahead with low locality (prefetcht2 on
   x86; prefetcht1 did alike), not into the first-level cache: 10% of 1M x 384 rows gathered in 0.78x
   the time, on one thread and on two (2 cores; 4 to 32 rows ahead did alike, 2 slightly worse). */
#define GATHER_AHEAD 8

static inline void
prefetch_scattered(const float *row, Py_ssize_t width)
{
    PREFETCH_ROW(row, width, 1);
}

/* --- buffers --- */

typedef struct {
    Py_buffer view;
    int held;
} Buffer;

static int
take(PyObject *object, Buffer *buffer, char kind, int writable, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object, &buffer->view, flags) < 0)
        return -1;
    buffer->held = 1;
    const char *format = buffer->view.format;
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    int fits = kind == 'f' ? strcmp(format, "f") == 0
                           : (strcmp(format, "q") == 0 || strcmp(format, "l") == 0) && buffer->view.itemsize == 8;
    if (!fits) {
        PyErr_Format(PyExc_TypeError, "%s must be a contiguous %s array", name, kind == 'f' ? "float32" : "int64");
        return -1;
    }
    return 0;
}

static Py_ssize_t
items(const Buffer *buffer)
{
    return buffer->view.len / buffer->view.itemsize;
}

static void
release(Buffer *buffers, int count)
{
    for (int i = 0; i < count; i++)
        if (buffers[i].held)
            PyBuffer_Release(&buffers[i].view);
}

/* --- kernels --- */

static PyObject *
gather_dots(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *objects[4];
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "OnOOO:gather_dots", &objects[0], &width, &objects[1], &objects[2], &objects[3]))
        return NULL;
    Buffer b[4];
    memset(b, 0, sizeof b);
    if (take(objects[0], &b[0], 'f', 0, "matrix") < 0 || take(objects[1], &b[1], 'q', 0, "rows") < 0 ||
        take(objects[2], &b[2], 'f', 0, "query") < 0 || take(objects[3], &b[3], 'f', 1, "out") < 0)
        goto fail;
    Py_ssize_t count = items(&b[1]), total = width > 0 ? items(&b[0]) / width : 0;
    if (width <= 0 || items(&b[0]) % width || items(&b[2]) != width || items(&b[3]) != count) {
        PyErr_SetString(PyExc_ValueError, "gather_dots: matrix, query and out do not fit width and rows");
        goto fail;
    }
    const float *matrix = b[0].view.buf, *query = b[2].view.buf;
    const int64_t *rows = b[1].view.buf;
    float *out = b[3].view.buf;
    Py_ssize_t bad = -1;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count && bad < 0; i++) {
        if (i + GATHER_AHEAD < count && rows[i + GATHER_AHEAD] >= 0 && rows[i + GATHER_AHEAD] < total)
            prefetch_scattered(matrix + rows[i + GATHER_AHEAD] * width, width);
        if (rows[i] < 0 || rows[i] >= total)
            bad = i;
        else
            out[i] = dot(matrix + rows[i] * width, query, width);
    }
    Py_END_ALLOW_THREADS
    if (bad >= 0) {
        PyErr_Format(PyExc_IndexError, "gather_dots: row %lld of a matrix of %zd rows",
                     (long long)rows[bad], total);
        goto fail;
    }
    release(b, 4);
    Py_RETURN_NONE;
fail:
    release(b, 4);
    return NULL;
}

static PyObject *
range_dots(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *objects[3];
    Py_ssize_t width;
    if (!PyArg_ParseTuple(args, "OnOO:range_dots", &objects[0], &width, &objects[1], &objects[2]))
        return NULL;
    Buffer b[3];
    memset(b, 0, sizeof b);
    if (take(objects[0], &b[0], 'f', 0, "matrix") < 0 || take(objects[1], &b[1], 'f', 0, "query") < 0 ||
        take(objects[2], &b[2], 'f', 1, "out") < 0)
        goto fail;
    Py_ssize_t count = items(&b[2]);
    if (width <= 0 || items(&b[0]) != count * width || items(&b[1]) != width) {
        PyErr_SetString(PyExc_ValueError, "range_dots: matrix, query and out do not fit width");
        goto fail;
    }
    const float *matrix = b[0].view.buf, *query = b[1].view.buf;
    float *out = b[2].view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        if (i + AHEAD < count)
            prefetch(matrix + (i + AHEAD) * width, width);
        out[i] = dot(matrix + i * width, query, width);
    }
    Py_END_ALLOW_THREADS
    release(b, 3);
    Py_RETURN_NONE;
fail:
    release(b, 3);
    return NULL;
}

/* Replaces the root of a min-heap of k (similarity, row) and restores the heap. */
static void
replace_root(float *sims, int64_t *rows, Py_ssize_t k, float sim, int64_t row)
{
    Py_ssize_t at = 0;
    for (;;) {
        Py_ssize_t child = 2 * at + 1;
        if (child >= k)
            break;
        if (child + 1 < k && sims[child + 1] < sims[child])
            child++;
        if (sims[child] >= sim)
            break;
        sims[at] = sims[child];
        rows[at] = rows[child];
        at = child;
    }
    sims[at] = sim;
    rows[at] = row;
}

static PyObject *
keep_best(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *objects[4];
    Py_ssize_t queries;
    if (!PyArg_ParseTuple(args, "OnOOO:keep_best", &objects[0], &queries, &objects[1], &objects[2], &objects[3]))
        return NULL;
    Buffer b[4];
    memset(b, 0, sizeof b);
    if (take(objects[0], &b[0], 'f', 0, "sims") < 0 || take(objects[1], &b[1], 'q', 0, "rows") < 0 ||
        take(objects[2], &b[2], 'f', 1, "best_sims") < 0 || take(objects[3], &b[3], 'q', 1, "best_rows") < 0)
        goto fail;
    Py_ssize_t count = items(&b[1]);
    Py_ssize_t k = queries > 0 ? items(&b[2]) / queries : 0;
    if (queries <= 0 || k <= 0 || items(&b[0]) != count * queries || items(&b[2]) != queries * k ||
        items(&b[3]) != queries * k) {
        PyErr_SetString(PyExc_ValueError, "keep_best: sims, rows and the heaps do not fit the queries");
        goto fail;
    }
    const float *sims = b[0].view.buf;
    const int64_t *rows = b[1].view.buf;
    float *best_sims = b[2].view.buf;
    int64_t *best_rows = b[3].view.buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < count; i++) {
        const float *row = sims + i * queries;
        for (Py_ssize_t q = 0; q < queries; q++)
            if (row[q] > best_sims[q * k])  /* NaN and -inf never enter */
                replace_root(best_sims + q * k, best_rows + q * k, k, row[q], rows[i]);
    }
    Py_END_ALLOW_THREADS
    release(b, 4);
    Py_RETURN_NONE;
fail:
    release(b, 4);
    return NULL;
}

static PyMethodDef methods[] = {
    {"gather_dots", gather_dots, METH_VARARGS,
     "gather_dots(matrix, width, rows, query, out): out[i] = matrix[rows[i]] . query"},
    {"range_dots", range_dots, METH_VARARGS,
     "range_dots(matrix, width, query, out): out[i] = matrix[i] . query"},
    {"keep_best", keep_best, METH_VARARGS,
     "keep_best(sims, queries, rows, best_sims, best_rows): fold sims (rows x queries) into the min-heaps\n"
     "best_sims/best_rows (queries x k) of each query"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_kernels", "The compiled kernels behind vectorize_nb.local.search.", 0, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC
PyInit__kernels(void)
{
    return PyModule_Create(&module);
}
