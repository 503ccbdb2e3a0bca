#!/usr/bin/env python3
"""rdata.py: export data frames from an R package's lazy-load data base
(data/Rdata.rdx + Rdata.rdb) to CSV, without R.

Used by test/bench/scoring_realdata.sh to read the labelled public data sets
that Debian ships in r-cran-modeldata.  Reads R's serialization format
(versions 2 and 3, XDR) as far as data frames of integers, doubles,
logicals, strings and factors need; anything else is an error.

    rdata.py DATA_DIR OUT_DIR NAME...    writes OUT_DIR/NAME.csv
"""
import bz2
import csv
import gzip
import lzma
import struct
import sys
import zlib

NA_INTEGER = -2147483648


class Reader:
    """Unserializes one R object from XDR bytes."""

    def __init__(self, data):
        self.b = data
        self.p = 0
        self.refs = []

    def int(self):
        v = struct.unpack('>i', self.b[self.p:self.p + 4])[0]
        self.p += 4
        return v

    def ints(self, n):
        v = struct.unpack('>%di' % n, self.b[self.p:self.p + 4 * n])
        self.p += 4 * n
        return list(v)

    def doubles(self, n):
        v = struct.unpack('>%dd' % n, self.b[self.p:self.p + 8 * n])
        self.p += 8 * n
        return list(v)

    def header(self):
        if self.b[:2] != b'X\n':
            raise ValueError('not an XDR serialization')
        self.p = 2
        version = self.int()
        self.int()
        self.int()
        if version == 3:
            n = self.int()          # native encoding name
            self.p += n

    def item(self):
        flags = self.int()
        t = flags & 0xff
        has_attr = flags & (1 << 9)
        has_tag = flags & (1 << 10)
        if t == 254:                                # NILVALUE
            return None
        if t in (253, 242, 241, 251, 247, 250):     # environments, missing arg
            return ('special', t)
        if t == 255:                                # reference
            idx = flags >> 8
            return self.refs[(idx or self.int()) - 1]
        if t == 1:                                  # symbol
            sym = ('sym', self.item())
            self.refs.append(sym)
            return sym
        if t == 4:                                  # environment
            env = {'env': True}
            self.refs.append(env)
            self.int()
            for _ in range(4):
                self.item()
            return env
        if t in (2, 6, 17, 239, 240):               # pairlists
            attr = self.item() if has_attr else None
            tag = self.item() if has_tag else None
            car = self.item()
            cdr = self.item()
            items = [(tag, car)]
            if isinstance(cdr, dict) and cdr.get('pairlist'):
                items += cdr['items']
            return {'pairlist': True, 'items': items, 'attr': attr}
        if t == 9:                                  # CHARSXP
            n = self.int()
            if n == -1:
                return None
            v = self.b[self.p:self.p + n].decode('utf-8', 'replace')
            self.p += n
            return v
        if t == 238:                                # ALTREP
            info = self.item()
            state = self.item()
            attr = self.item()
            cls = info['items'][0][1][1]
            if cls in ('compact_intseq', 'compact_realseq'):
                n, start, step = state['v']
                v = [start + k * step for k in range(int(n))]
                return {'t': 13 if cls == 'compact_intseq' else 14,
                        'v': [int(x) for x in v] if cls == 'compact_intseq' else v, 'attr': attr}
            if cls.startswith('wrap_'):
                return state['items'][0][1]
            raise ValueError('unsupported ALTREP class %s' % cls)
        if t in (10, 13):                           # logical, integer
            v = self.ints(self.int())
        elif t == 14:                               # double
            v = self.doubles(self.int())
        elif t in (16, 19, 20):                     # character, list
            v = [self.item() for _ in range(self.int())]
        else:
            raise ValueError('unsupported R type %d' % t)
        attr = self.item() if has_attr else None
        return {'t': t, 'v': v, 'attr': attr}


def attrs(obj):
    out = {}
    if isinstance(obj, dict) and obj.get('attr'):
        for tag, val in obj['attr']['items']:
            out[tag[1] if tag else None] = val
    return out


def load(data_dir, name):
    index = Reader(gzip.decompress(open(data_dir + '/Rdata.rdx', 'rb').read()))
    index.header()
    idx = index.item()
    parts = dict(zip(attrs(idx)['names']['v'], idx['v']))
    variables = parts['variables']
    names = attrs(variables)['names']['v']
    off, length = variables['v'][names.index(name)]['v']
    with open(data_dir + '/Rdata.rdb', 'rb') as f:
        f.seek(off)
        raw = f.read(length)
    kind = raw[4:5]
    if kind == b'Z':
        data = lzma.decompress(raw[5:], format=lzma.FORMAT_RAW,
                               filters=[{'id': lzma.FILTER_LZMA2, 'preset': 9 | lzma.PRESET_EXTREME}])
    elif kind == b'2':
        data = bz2.decompress(raw[5:])
    elif kind == b'1':
        data = zlib.decompress(raw[5:])
    elif kind == b'0':
        data = raw[5:]
    else:
        data = zlib.decompress(raw[4:])
    r = Reader(data)
    r.header()
    return r.item()


def export(data_dir, out_dir, name):
    frame = load(data_dir, name)
    cols = attrs(frame)['names']['v']
    out = []
    for col in frame['v']:
        levels = attrs(col).get('levels')
        vals = []
        for x in col['v']:
            if col['t'] in (10, 13):
                if x == NA_INTEGER:
                    vals.append('')
                elif levels:
                    vals.append(levels['v'][x - 1])
                elif col['t'] == 10:
                    vals.append('true' if x else 'false')
                else:
                    vals.append(str(x))
            elif col['t'] == 14:
                vals.append('' if x != x else repr(x))
            else:
                vals.append('' if x is None else x)
        out.append(vals)
    with open('%s/%s.csv' % (out_dir, name), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(cols)
        for row in zip(*out):
            w.writerow(row)


if __name__ == '__main__':
    for n in sys.argv[3:]:
        export(sys.argv[1], sys.argv[2], n)
