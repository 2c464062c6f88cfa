// A known location as apps in China write it: in GCJ-02 (the state datum every Chinese map and location SDK
// must use, about 500 m off WGS-84) and BD-09 (Baidu's, offset again from GCJ-02). gcoord implements the
// public conversion formulas (and returns points outside China unchanged, as GCJ-02 itself does).
import gcoord, { type CRSTypes } from 'gcoord';

export interface DatumVariant {
  lat: number;
  lon: number;
  /** the datum the coordinates are written in, when not the one the tester gave: `gcj02`, `bd09`, `wgs84` */
  datum?: 'gcj02' | 'bd09' | 'wgs84';
}

/**
 * The tester's location as given, and as it reads in the other datums: taken as WGS-84 (a phone's GPS) in
 * GCJ-02 and BD-09, and taken as GCJ-02 (read off a Chinese map) in WGS-84. Variants equal to the given
 * point (outside China) are left out.
 */
export function datumVariants(lat: number, lon: number): DatumVariant[] {
  const out: DatumVariant[] = [{ lat, lon }];
  const add = (from: CRSTypes, to: CRSTypes, datum: DatumVariant['datum']) => {
    const [x, y] = gcoord.transform([lon, lat], from, to);
    if (Math.abs(x - lon) > 1e-6 || Math.abs(y - lat) > 1e-6) out.push({ lat: y, lon: x, datum });
  };
  add(gcoord.WGS84, gcoord.GCJ02, 'gcj02');
  add(gcoord.WGS84, gcoord.BD09, 'bd09');
  add(gcoord.GCJ02, gcoord.WGS84, 'wgs84');
  return out;
}
