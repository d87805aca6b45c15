import { create } from 'zustand';
import { studio } from '../studio';
import { describeError } from './project';
import type { MergeRecord } from './team';

interface MergesState {
  /** 'loading' keeps the previous list on screen, marked busy, until the new one comes. */
  status: 'loading' | 'ready' | 'error';
  merges: MergeRecord[] | null;
  error: string | null;
  load(): Promise<void>;
}

/** Only the reply to the latest request is shown. */
let requestSeq = 0;

/** The files merged into the lead's project (listMerges), the latest first. */
export const useMerges = create<MergesState>()((set) => ({
  status: 'loading',
  merges: null,
  error: null,
  async load() {
    const seq = ++requestSeq;
    set({ status: 'loading', error: null });
    try {
      const merges = await studio.listMerges({});
      if (seq === requestSeq) set({ status: 'ready', merges });
    } catch (error) {
      if (seq === requestSeq) set({ status: 'error', error: describeError(error) });
    }
  },
}));
