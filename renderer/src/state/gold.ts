import { create } from 'zustand';
import type { Verdict } from '../../../shared/labels';
import { studio } from '../studio';
import { describeError } from './project';

interface GoldState {
  /** Gold verdicts by pair id; null until loaded. */
  gold: Map<number, Verdict> | null;
  saving: boolean;
  error: string | null;
  load(): Promise<void>;
  /** Marks the pair gold with `verdict`, or takes the mark off (null). */
  set(pairId: number, verdict: Verdict | null, setBy: string): Promise<void>;
}

/** The lead's gold pairs (listGold / setGold), for review's "Mark as gold". */
export const useGold = create<GoldState>()((set, get) => ({
  gold: null,
  saving: false,
  error: null,
  async load() {
    try {
      const list = await studio.listGold({});
      set({ gold: new Map(list.map((g) => [g.pairId, g.verdict])), error: null });
    } catch (error) {
      set({ error: describeError(error) });
    }
  },
  async set(pairId, verdict, setBy) {
    if (get().saving) return;
    set({ saving: true, error: null });
    try {
      await studio.setGold({ pairs: [{ pairId, verdict }], setBy });
      const gold = new Map(get().gold ?? []);
      if (verdict === null) gold.delete(pairId);
      else gold.set(pairId, verdict);
      set({ gold, saving: false });
    } catch (error) {
      set({ saving: false, error: describeError(error) });
    }
  },
}));
